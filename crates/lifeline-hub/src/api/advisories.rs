//! The relayed CAP feed: publishing (supervisors and publishing services), the Atom index
//! and the documents.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::{Shared, blocking, error};
use crate::auth::{Principal, forbidden};
use crate::store::{NewAdvisory, Published, ServiceScope};

pub async fn publish(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    body: Bytes,
) -> Response {
    if !p.may(ServiceScope::PublishAdvisories) {
        return forbidden("publish advisories (supervisors and publishing services only)");
    }
    use lifeline_feeds::{Format, detect, parse_document};
    let format = match detect::detect(&body) {
        Ok(f @ Format::Cap) => f,
        Ok(other) => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_cap",
                format!("expected a CAP alert, got {}", other.name()),
            );
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, "not_cap", e.to_string()),
    };
    let doc = match parse_document(format, &body, "publish") {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_cap", e.to_string()),
    };
    if let Some(rej) = doc.rejected.first() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_cap",
            rej.reason.clone(),
        );
    }
    let Some(a) = doc.advisories.first() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_cap",
            "the document holds no alert",
        );
    };
    // An exercise hub carries exercises only: a real warning published there would reach
    // desks inside a drill, under the EXERCISE band.
    if state.exercise
        && !matches!(
            a.status,
            lifeline_core::model::AlertStatus::Exercise | lifeline_core::model::AlertStatus::Test
        )
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_exercise",
            "this hub runs an exercise: it relays only CAP alerts whose status is Exercise or Test",
        );
    }
    let title = a
        .info_for("en")
        .and_then(|i| i.headline.clone().or_else(|| Some(i.event.clone())))
        .unwrap_or_default();
    let (sender, identifier, sent) = (
        a.key.sender.clone(),
        a.key.identifier.clone(),
        a.sent_text.clone(),
    );
    let xml = String::from_utf8_lossy(&body).into_owned();
    let store = Arc::clone(&state.store);
    let actor = p.audit_name();
    let published = blocking(move || {
        store.publish_advisory(
            NewAdvisory {
                sender: &sender,
                identifier: &identifier,
                sent: &sent,
                title: &title,
                xml: &xml,
            },
            &actor,
            Utc::now(),
        )
    })
    .await;
    let created = |status: StatusCode, id: i64| {
        (
            status,
            axum::Json(serde_json::json!({"id": id, "href": format!("/v1/advisories/{id}.xml")})),
        )
            .into_response()
    };
    match published {
        Ok(Published::New(id)) => {
            state.advisories_changed.send_modify(|v| *v += 1);
            created(StatusCode::CREATED, id)
        }
        Ok(Published::Same(id)) => created(StatusCode::OK, id),
        Ok(Published::Conflict(id)) => error(
            StatusCode::CONFLICT,
            "advisory_exists",
            format!(
                "advisory {id} has this sender and identifier with other content; a CAP alert is never replaced: publish an Update that references it"
            ),
        ),
        Err(r) => r,
    }
}

pub async fn atom(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
) -> Response {
    if !p.may(ServiceScope::ReadAdvisories) {
        return forbidden("read advisories");
    }
    let store = Arc::clone(&state.store);
    let entries = match blocking(move || store.advisories(200)).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let etag = format!(
        "\"{}-{}\"",
        state.store.instance(),
        entries.first().map_or(0, |e| e.id)
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let updated = entries
        .first()
        .map_or_else(|| chrono::DateTime::<Utc>::UNIX_EPOCH, |e| e.published_at);
    let body = crate::atom::render(state.store.instance(), &entries, updated);
    let last_modified = updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/atom+xml; charset=utf-8".to_owned(),
            ),
            (header::ETAG, etag),
            (header::LAST_MODIFIED, last_modified),
        ],
        body,
    )
        .into_response()
}

pub async fn document(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(file): Path<String>,
) -> Response {
    if !p.may(ServiceScope::ReadAdvisories) {
        return forbidden("read advisories");
    }
    let Some(id) = file
        .strip_suffix(".xml")
        .and_then(|i| i.parse::<i64>().ok())
    else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such advisory");
    };
    let store = Arc::clone(&state.store);
    match blocking(move || store.advisory_xml(id)).await {
        Ok(Some(xml)) => (
            [(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "no such advisory"),
        Err(r) => r,
    }
}
