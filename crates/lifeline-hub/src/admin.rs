//! The hub's administration from the command line: posts, officers, channels and service
//! accounts, sessions, and the audit trail. Every change is recorded in the audit trail as
//! done by `admin-cli`. Secrets are printed once, when they are made, and never stored in
//! the clear.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::secrets;
use crate::store::{
    AuditEntry, ChainCheck, CredentialKind, HubError, HubStore, NewOfficer, Post, PostScope, Role,
    ServiceScope,
};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] HubError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the audit trail does not verify: entry {seq} does not match (it, or one before it, was changed or removed)"
    )]
    Broken { seq: i64 },
    #[error(
        "the audit trail does not verify: it ends at entry {last_seq} but entry {expected_seq} was written (the newest entries were removed)"
    )]
    Truncated { last_seq: i64, expected_seq: i64 },
}

pub type Result<T = ()> = std::result::Result<T, AdminError>;

const ADMIN: &str = "admin-cli";

fn audit(store: &dyn HubStore, action: &str, target: &str, detail: &str) -> Result {
    store.audit(
        AuditEntry {
            actor: ADMIN,
            action,
            target: Some(target),
            detail,
        },
        Utc::now(),
    )?;
    Ok(())
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn add_post(
    store: &dyn HubStore,
    id: &str,
    name_en: &str,
    name_zh: &str,
    countries: &str,
    subregions: &str,
) -> Result<String> {
    let countries: Vec<String> = split(countries)
        .iter()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if countries.is_empty() || countries.iter().any(|c| c.len() != 2) {
        return Err(AdminError::Usage(
            "--countries takes ISO 3166-1 alpha-2 codes, comma-separated (TH,LA)".into(),
        ));
    }
    store.put_post(&Post {
        id: id.into(),
        name_zh: name_zh.into(),
        name_en: name_en.into(),
        countries: countries.clone(),
        subregions: split(subregions),
    })?;
    audit(store, "post_put", id, &countries.join(","))?;
    Ok(format!(
        "post {id} ({name_en} / {name_zh}) covers {}",
        countries.join(", ")
    ))
}

/// Sets a drill hub up: the posts of the scenario's places, and a duty officer of them
/// (created, or given this password again when they exist).
pub fn drill_accounts(
    store: &dyn HubStore,
    scenario: crate::drill::Scenario,
    officer: &str,
    name: &str,
    password: Option<String>,
) -> Result<String> {
    let posts = crate::drill::posts_of(scenario);
    let mut out = String::new();
    for p in &posts {
        store.put_post(p)?;
        audit(store, "post_put", &p.id, &p.countries.join(","))?;
        out.push_str(&format!("post {} ({} / {})\n", p.id, p.name_en, p.name_zh));
    }
    let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
    if store.officer(officer)?.is_some() {
        out.push_str(&reset_password(store, officer, password)?);
        out.push('\n');
    } else {
        out.push_str(&add_officer(
            store,
            officer,
            name,
            "duty_officer",
            &ids.join(","),
            password,
        )?);
    }
    Ok(out)
}

pub fn list_posts(store: &dyn HubStore) -> Result<String> {
    let mut out = String::new();
    for p in store.posts()? {
        out.push_str(&format!(
            "{:<20} {:<36} {:<20} {}{}\n",
            p.id,
            p.name_en,
            p.name_zh,
            p.countries.join(","),
            if p.subregions.is_empty() {
                String::new()
            } else {
                format!(" ({})", p.subregions.join(","))
            }
        ));
    }
    Ok(out)
}

/// A password: the one given, or a new random one (returned so it can be shown once).
fn password_or_new(given: Option<String>) -> Result<(String, bool)> {
    match given {
        Some(p) => Ok((p, false)),
        None => {
            let token = secrets::new_token(secrets::TokenKind::Access)
                .map_err(|e| AdminError::Usage(e.to_string()))?;
            // 20 hex digits of the random part: 80 bits, easy to type once.
            let random: String = token.chars().rev().take(20).collect();
            Ok((random, true))
        }
    }
}

pub fn add_officer(
    store: &dyn HubStore,
    id: &str,
    name: &str,
    role: &str,
    posts: &str,
    password: Option<String>,
) -> Result<String> {
    let role = Role::parse(role).ok_or_else(|| {
        AdminError::Usage(format!(
            "--role is one of: {}",
            Role::ALL.map(Role::as_str).join(", ")
        ))
    })?;
    let posts = PostScope::parse(posts);
    if posts == PostScope::Posts(Vec::new()) && role != Role::Admin {
        return Err(AdminError::Usage(
            "--posts names at least one post (or *)".into(),
        ));
    }
    let (password, generated) = password_or_new(password)?;
    store.add_officer(
        NewOfficer {
            id,
            display_name: name,
            role,
            posts: &posts,
            password: &password,
        },
        Utc::now(),
    )?;
    audit(
        store,
        "officer_added",
        id,
        &format!("{} {}", role.as_str(), posts.to_text()),
    )?;
    let mut out = format!(
        "officer {id} ({name}), {} of {}\n",
        role.as_str(),
        posts.to_text()
    );
    if generated {
        out.push_str(&format!(
            "password (shown once; give it to the officer in person): {password}\n"
        ));
    }
    Ok(out)
}

pub fn list_officers(store: &dyn HubStore) -> Result<String> {
    let now = Utc::now();
    let mut out = String::new();
    for o in store.officers()? {
        let state = if o.disabled {
            "disabled".to_owned()
        } else if let Some(until) = o.locked_until.filter(|u| *u > now) {
            format!("locked until {until}")
        } else {
            "active".to_owned()
        };
        out.push_str(&format!(
            "{:<16} {:<24} {:<16} {:<24} {state}\n",
            o.id,
            o.display_name,
            o.role.as_str(),
            o.posts.to_text()
        ));
    }
    Ok(out)
}

pub fn set_disabled(store: &dyn HubStore, id: &str, disabled: bool) -> Result<String> {
    store.set_officer_disabled(id, disabled)?;
    let what = if disabled {
        "officer_disabled"
    } else {
        "officer_enabled"
    };
    audit(store, what, id, "")?;
    Ok(if disabled {
        format!("officer {id} disabled; their sessions are revoked")
    } else {
        format!("officer {id} enabled")
    })
}

pub fn reset_password(store: &dyn HubStore, id: &str, password: Option<String>) -> Result<String> {
    let (password, generated) = password_or_new(password)?;
    store.set_password(id, &password)?;
    audit(store, "password_reset", id, "")?;
    Ok(if generated {
        format!("new password for {id} (shown once): {password}\nevery session of {id} is revoked")
    } else {
        format!("password of {id} changed; every session of {id} is revoked")
    })
}

pub fn add_credential(
    store: &dyn HubStore,
    kind: CredentialKind,
    name: &str,
    scopes: &str,
) -> Result<String> {
    let scopes: Vec<ServiceScope> = split(scopes)
        .iter()
        .map(|s| {
            ServiceScope::parse(s).ok_or_else(|| {
                AdminError::Usage(format!(
                    "unknown scope `{s}`; scopes: {}",
                    ServiceScope::ALL.map(ServiceScope::as_str).join(", ")
                ))
            })
        })
        .collect::<Result<_>>()?;
    let (credential, secret) = store.add_credential(kind, name, &scopes, Utc::now())?;
    audit(
        store,
        &format!("{}_added", kind.as_str()),
        &credential.id,
        name,
    )?;
    Ok(format!(
        "{} {} ({name}), may: {}\nsecret (shown once; store it in the caller's secret store): {secret}\n",
        kind.as_str(),
        credential.id,
        credential
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ))
}

pub fn list_credentials(store: &dyn HubStore, kind: CredentialKind) -> Result<String> {
    let mut out = String::new();
    for c in store.credentials()?.into_iter().filter(|c| c.kind == kind) {
        out.push_str(&format!(
            "{:<22} {:<24} {:<40} {}\n",
            c.id,
            c.name,
            c.scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
            c.revoked_at
                .map_or("active".to_owned(), |t| format!("revoked {t}"))
        ));
    }
    Ok(out)
}

pub fn rotate_credential(store: &dyn HubStore, id: &str) -> Result<String> {
    let secret = store
        .rotate_credential(id)?
        .ok_or_else(|| AdminError::Usage(format!("no active credential {id}")))?;
    audit(store, "credential_rotated", id, "")?;
    Ok(format!(
        "new secret for {id} (shown once; the old one no longer works): {secret}"
    ))
}

pub fn revoke_credential(store: &dyn HubStore, id: &str) -> Result<String> {
    if !store.revoke_credential(id, Utc::now())? {
        return Err(AdminError::Usage(format!("no active credential {id}")));
    }
    audit(store, "credential_revoked", id, "")?;
    Ok(format!("{id} revoked"))
}

pub fn list_sessions(store: &dyn HubStore, officer: Option<&str>) -> Result<String> {
    let now = Utc::now();
    let mut out = String::new();
    for s in store.sessions(officer)? {
        let state = match s.revoked_at {
            Some(t) => format!("revoked {t}"),
            None if s.refresh_expires <= now => "expired".into(),
            None => "live".into(),
        };
        out.push_str(&format!(
            "{:<20} {:<16} {:<20} signed in {}  last seen {}  {state}\n",
            s.id,
            s.officer_id,
            s.desk,
            s.created_at.format("%Y-%m-%d %H:%M"),
            s.last_seen.format("%Y-%m-%d %H:%M"),
        ));
    }
    Ok(out)
}

pub fn revoke_session(store: &dyn HubStore, id: &str) -> Result<String> {
    if !store.revoke_session(id, Utc::now())? {
        return Err(AdminError::Usage(format!("no live session {id}")));
    }
    audit(store, "session_revoked", id, "")?;
    Ok(format!(
        "session {id} revoked: its desk is refused from its next request"
    ))
}

/// An erasure order: the request leaves the hub now and every desk at its next sync.
pub fn erase_request(store: &dyn HubStore, id: &str, reference: &str) -> Result<String> {
    if reference.trim().is_empty() {
        return Err(AdminError::Usage(
            "give the erasure order's reference (--reference), for the audit trail".into(),
        ));
    }
    match store.erase(id, ADMIN, reference, Utc::now())? {
        Some(seq) => Ok(format!(
            "request {id} erased at change {seq}: every desk erases it at its next sync"
        )),
        None => Err(AdminError::Usage(format!("no request {id}"))),
    }
}

pub fn verify_audit(store: &dyn HubStore) -> Result<String> {
    match store.verify_audit()? {
        ChainCheck::Intact { entries, head } => Ok(format!(
            "the audit trail verifies: {entries} entries, head {head}"
        )),
        ChainCheck::Broken { seq, .. } => Err(AdminError::Broken { seq }),
        ChainCheck::Truncated {
            last_seq,
            expected_seq,
        } => Err(AdminError::Truncated {
            last_seq,
            expected_seq,
        }),
    }
}

/// Writes the entries since `since` as JSON lines to `out` (each with its hashes, so an
/// archive verifies on its own).
pub fn export_audit(
    store: &dyn HubStore,
    since: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<usize> {
    let entries = store.audit_since(since)?;
    for e in &entries {
        let line = serde_json::to_string(e).map_err(|e| AdminError::Usage(e.to_string()))?;
        writeln!(out, "{line}").map_err(|e| AdminError::Write {
            path: "output".into(),
            source: e,
        })?;
    }
    audit(
        store,
        "audit_exported",
        "audit",
        &format!("{} entries since {since}", entries.len()),
    )?;
    Ok(entries.len())
}

/// Archives the entries before `before` to `archive` (JSON lines, written and synced
/// first), then drops them from the database. The chain stays verifiable from its anchor.
pub fn rotate_audit(store: &dyn HubStore, before: DateTime<Utc>, archive: &Path) -> Result<String> {
    let old: Vec<_> = store
        .audit_since(DateTime::<Utc>::MIN_UTC)?
        .into_iter()
        .filter(|e| e.at < before)
        .collect();
    let Some(last) = old.last() else {
        return Ok(format!("no audit entries before {before}"));
    };
    let write = |path: &Path| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(path)?;
        for e in &old {
            writeln!(f, "{}", serde_json::to_string(e).unwrap_or_default())?;
        }
        f.sync_all()
    };
    write(archive).map_err(|e| AdminError::Write {
        path: archive.display().to_string(),
        source: e,
    })?;
    let dropped = store.rotate_audit(last.seq)?;
    audit(
        store,
        "audit_rotated",
        "audit",
        &format!(
            "{dropped} entries through {} to {}",
            last.seq,
            archive.display()
        ),
    )?;
    Ok(format!(
        "{dropped} entries archived to {} (last hash {}); the trail now starts after entry {}",
        archive.display(),
        last.hash,
        last.seq
    ))
}
