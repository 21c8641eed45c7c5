//! `lifeline messages` and `lifeline reply`: the thread with a citizen, from this store.

use chrono::Utc;
use lifeline_core::Store;
use lifeline_core::model::TriageAction;
use lifeline_core::model::templates::{TEMPLATES, template};
use lifeline_core::protocol::WireMessage;

use super::outbox::new_key;
use crate::CliError;
use crate::args::{MessageArgs, RemindArgs, ReplyArgs};
use crate::output::print_json;

pub fn thread(store: &Store, request_id: &str, json_out: bool) -> Result<(), CliError> {
    if store.get_request(request_id)?.is_none() {
        return Err(CliError::Usage(format!(
            "no request {request_id} in this store"
        )));
    }
    let messages = store.thread(request_id)?;
    if json_out {
        let wire: Vec<WireMessage> = messages.iter().map(WireMessage::from_domain).collect();
        return print_json(&serde_json::json!({ "messages": wire }));
    }
    if messages.is_empty() {
        return say!("no messages on {request_id} yet");
    }
    for m in &messages {
        let who = match m.direction {
            lifeline_core::model::Direction::Inbound => "citizen".to_owned(),
            lifeline_core::model::Direction::Outbound => {
                m.author.clone().unwrap_or_else(|| "officer".into())
            }
        };
        // One line per message: line breaks inside the text are shown escaped. A file is
        // named by its type, size and content address (the desk fetches and shows it).
        let file = m
            .media
            .as_ref()
            .map(|f| {
                format!(
                    " ({} {}, {} bytes, sha256 {})",
                    m.kind,
                    f.media_type,
                    f.size_bytes,
                    &f.sha256[..12]
                )
            })
            .unwrap_or_default();
        say!(
            "{} {who} [{}] {}{file}",
            m.created_at.format("%Y-%m-%d %H:%M"),
            m.delivery,
            m.text.replace('\n', "\\n")
        )?;
    }
    Ok(())
}

pub fn reply(store: &Store, args: ReplyArgs, json_out: bool) -> Result<(), CliError> {
    let Some((text, template_name)) = message_text(&args.message)? else {
        return Ok(());
    };
    let key = new_key();
    let action = TriageAction::SendMessage {
        text,
        template: template_name,
    };
    store
        .queue_action(
            &args.request_id,
            &action,
            &args.message.actor,
            &key,
            Utc::now(),
        )
        .map_err(|e| match e {
            lifeline_core::store::StoreError::Action(a) => CliError::Usage(a.to_string()),
            other => other.into(),
        })?;
    let id = lifeline_core::model::message::outbound_id(&key);
    if json_out {
        return print_json(&serde_json::json!({ "queued": id, "key": key }));
    }
    say!(
        "queued message {id} to the citizen of {} (sent on the next sync)",
        args.request_id
    )
}

/// The message a `--text` or `--template` names (`None`: the templates were listed).
fn message_text(args: &MessageArgs) -> Result<Option<(String, Option<String>)>, CliError> {
    let (text, template_name, lang) = (
        args.text.as_deref(),
        args.template.as_deref(),
        args.lang.as_str(),
    );
    Ok(Some(match (text, template_name) {
        (_, Some("list")) => {
            for t in TEMPLATES {
                say!("{:<16} {}", t.name, t.text(lang))?;
            }
            return Ok(None);
        }
        (_, Some(name)) => {
            let t = template(name).ok_or_else(|| {
                let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
                CliError::Usage(format!(
                    "no template {name:?} (there are: {})",
                    names.join(", ")
                ))
            })?;
            (t.text(lang).to_owned(), Some(t.name.to_owned()))
        }
        (Some(text), None) => (text.to_owned(), None),
        (None, None) => return Err(CliError::Usage("give --text or --template".into())),
    }))
}

pub fn remind(store: &Store, args: RemindArgs, json_out: bool) -> Result<(), CliError> {
    use lifeline_core::store::ReminderArea;
    let area = match (args.advisory, args.bbox.as_deref()) {
        (Some(id), _) => ReminderArea::Advisory(id),
        (None, Some(b)) => ReminderArea::Box(
            lifeline_core::geo::BBox::parse(b)
                .map_err(|e| CliError::Usage(format!("--bbox: {e}")))?,
        ),
        (None, None) => {
            return Err(CliError::Usage(
                "give --bbox W,S,E,N or --advisory ID".into(),
            ));
        }
    };
    let recipients = store.reminder_recipients(&area)?;
    // The desk's cap: a larger area is more likely a slip than a plan.
    const MAX_REMINDER: usize = 10_000;
    if !args.dry_run && recipients.len() > MAX_REMINDER {
        return Err(CliError::Usage(format!(
            "{} citizens are inside; a reminder goes to at most {MAX_REMINDER}: choose a smaller area",
            recipients.len()
        )));
    }
    if args.dry_run {
        if json_out {
            return print_json(&serde_json::json!({ "inside": recipients.len() }));
        }
        return say!("{} citizens inside (open requests)", recipients.len());
    }
    let Some((text, template_name)) = message_text(&args.message)? else {
        return Ok(());
    };
    let keyed: Vec<(String, String)> = recipients
        .iter()
        .map(|id| (id.clone(), new_key()))
        .collect();
    let queued = store
        .queue_reminder(
            &keyed,
            &text,
            template_name.as_deref(),
            &args.message.actor,
            Utc::now(),
        )
        .map_err(|e| match e {
            lifeline_core::store::StoreError::Action(a) => CliError::Usage(a.to_string()),
            other => other.into(),
        })?;
    if json_out {
        return print_json(&serde_json::json!({ "inside": recipients.len(), "queued": queued }));
    }
    say!("queued {queued} messages, one to each citizen inside (sent on the next sync)")
}
