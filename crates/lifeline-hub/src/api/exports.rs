//! `POST /v1/audit/exports`: a desk or the command line is about to export requests with
//! personal data. Only a supervisor may (a development token too, on a drill or a laptop);
//! the hub records it in its audit trail before it answers yes.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifeline_core::protocol::WireExportNotice;

use super::{Shared, blocking, parse_json};
use crate::auth::{Principal, forbidden};
use crate::store::AuditEntry;

pub async fn record(
    State(state): State<Shared>,
    Extension(p): Extension<Principal>,
    body: Bytes,
) -> Response {
    let allowed = match &p {
        Principal::Officer { officer, .. } => officer.role.supervises(),
        Principal::Dev => true,
        _ => false,
    };
    if !allowed {
        return forbidden("export personal data (supervisors only)");
    }
    let notice: WireExportNotice = match parse_json(&body) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let what: String = notice.what.chars().take(512).collect();
    let store = Arc::clone(&state.store);
    let actor = p.audit_name();
    let recorded = blocking(move || {
        store.audit(
            AuditEntry {
                actor: &actor,
                action: "export_personal_data",
                target: None,
                detail: &what,
            },
            Utc::now(),
        )
    })
    .await;
    match recorded {
        Ok(()) => axum::Json(serde_json::json!({"recorded": true})).into_response(),
        Err(r) => r,
    }
}
