//! Signing in from the window, and the idle lock.

use std::sync::Arc;

use lifeline_sync::http::{Http, check_transport};
use lifeline_sync::{HttpError, HubAuth, Limits, SessionAuth, SessionError};

use super::DeskState;
use crate::dto::SignInForm;
use crate::error::{CommandError, CommandResult, ErrorCode};
use crate::session::UnlockError;
use crate::settings::HubCredential;

fn sign_in_error(e: SessionError) -> CommandError {
    let code = match &e {
        SessionError::WrongCredentials => ErrorCode::WrongCredentials,
        SessionError::LockedOut(_) => ErrorCode::TooManyTries,
        SessionError::Disabled => ErrorCode::AccountDisabled,
        SessionError::Http(HttpError::PlainHttp { .. } | HttpError::Certificate { .. }) => {
            ErrorCode::InsecureHub
        }
        SessionError::Http(HttpError::Url { .. }) => ErrorCode::InvalidInput,
        _ => ErrorCode::Network,
    };
    CommandError::new(code, e.to_string())
}

/// Signs an officer in at the hub: the session is kept in the keyring (the settings file
/// keeps the hub and the officer's id), the password's verifier unlocks this desk offline
/// later, and sync starts again with the new session. Returns the officer's name.
#[tauri::command]
pub async fn sign_in(desk: DeskState<'_>, form: SignInForm) -> CommandResult<String> {
    // One address, or several of the same hub (its replicas), as the settings keep them.
    let addresses = lifeline_sync::hub_addresses(&form.hub);
    let officer = form.officer.trim().to_owned();
    if addresses.is_empty() || officer.is_empty() || form.password.is_empty() {
        return Err(CommandError::invalid(
            "the hub's address, the officer id and the password are all needed",
        ));
    }
    for address in &addresses {
        check_transport(address).map_err(|e| sign_in_error(e.into()))?;
    }
    let hub = addresses.join(", ");
    let roots: Vec<Vec<u8>> = desk.hub_ca().into_iter().collect();
    let http = Http::with_roots(Limits::default(), &roots).map_err(|e| sign_in_error(e.into()))?;
    let desk_name = desk.settings().desk;
    // The first address that answers signs the officer in: every replica shares the
    // sessions.
    let mut signed = Err(SessionError::Answer("no hub address".into()));
    for address in &addresses {
        signed = lifeline_sync::sign_in(&http, address, &officer, &form.password, &desk_name).await;
        match &signed {
            Err(SessionError::Http(e)) if e.is_unreachable() => continue,
            _ => break,
        }
    }
    let session = signed.map_err(sign_in_error)?;
    let name = session.officer.display_name.clone();
    let officer_id = session.officer.id.clone();
    desk.session.remember_password(&officer_id, &form.password);
    let keeper = desk.session.keeper(None);
    keeper(&session);
    {
        let mut settings = desk
            .settings
            .write()
            .map_err(|_| CommandError::new(ErrorCode::Internal, "settings are unavailable"))?;
        settings.hub_url = Some(hub.clone());
        settings.credential = Some(HubCredential::Officer {
            id: officer_id.clone(),
            password: None,
        });
        settings.officer = officer_id.clone();
        settings.missing_token = false;
        if let Err(e) = settings.save_sign_in(&hub, &officer_id) {
            tracing::error!("cannot save the hub and officer in settings.json: {e}");
        }
    }
    let auth = SessionAuth::from_session(session, &desk_name, Some(keeper));
    desk.start_engine(Some(HubAuth::Session(Arc::new(auth))));
    // Signing in proves who is at the desk: a locked window opens.
    let _ = desk.session.unlock(&form.password);
    Ok(name)
}

/// Signs the officer out of this desk: the kept session is forgotten, sync with the hub
/// stops (feeds go on), and the desk's data stays for the next officer to sign in. Edits not
/// yet sent wait in the outbox.
#[tauri::command]
pub fn sign_out(desk: DeskState<'_>) -> CommandResult<()> {
    desk.session.forget_session().map_err(|e| {
        CommandError::new(
            ErrorCode::Internal,
            format!("cannot remove the session from the keyring: {e}"),
        )
    })?;
    if let Ok(mut settings) = desk.settings.write()
        && let Some(HubCredential::Officer { password, .. }) = settings.credential.as_mut()
    {
        *password = None;
    }
    desk.start_engine(None);
    Ok(())
}

/// Locks the window (the officer stepped away). False when nobody could unlock it offline.
#[tauri::command]
pub fn lock_desk(desk: DeskState<'_>) -> CommandResult<bool> {
    Ok(desk.session.lock())
}

/// Unlocks the window with the password of the officer signed in at this desk.
#[tauri::command(async)]
pub fn unlock_desk(desk: DeskState<'_>, password: String) -> CommandResult<()> {
    desk.session.unlock(&password).map_err(|e| {
        let code = match &e {
            UnlockError::WrongPassword => ErrorCode::WrongCredentials,
            UnlockError::TooManyTries(_) => ErrorCode::TooManyTries,
            UnlockError::NoVerifier => ErrorCode::InvalidAction,
            UnlockError::Keyring(_) => ErrorCode::Internal,
        };
        CommandError::new(code, e.to_string())
    })
}

/// Refuses while the window is locked: for every command that returns or changes a
/// citizen's data.
pub fn ensure_unlocked(desk: &DeskState<'_>) -> CommandResult<()> {
    if desk.session.is_locked() {
        return Err(CommandError::new(
            ErrorCode::DeskLocked,
            "the desk is locked: unlock it with your password",
        ));
    }
    Ok(())
}
