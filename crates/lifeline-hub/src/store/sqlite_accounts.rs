//! [`Accounts`] on the hub's SQLite file.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::accounts::{
    LOCKOUT, MAX_FAILED_SIGNINS, check_id, list, ms, new_credential, new_tokens, time,
};
use super::sqlite_audit::append_in;
use super::{
    Accounts, AuditEntry, Credential, CredentialKind, HubError, NewOfficer, Officer, Post,
    PostScope, Role, ServiceScope, Session, SessionTokens, SignIn, SqliteHubStore, TokenOwner,
};
use crate::secrets::{self, SecretError, TokenKind};

impl From<SecretError> for HubError {
    fn from(e: SecretError) -> HubError {
        HubError::Invalid(e.to_string())
    }
}

const OFFICER_COLUMNS: &str = "id, display_name, role, posts, disabled, locked_until";

fn officer_from(r: &Row<'_>) -> rusqlite::Result<Officer> {
    let role: String = r.get(2)?;
    Ok(Officer {
        id: r.get(0)?,
        display_name: r.get(1)?,
        // The column's CHECK admits only known roles.
        role: Role::parse(&role).unwrap_or(Role::RegionalViewer),
        posts: PostScope::parse(&r.get::<_, String>(3)?),
        disabled: r.get(4)?,
        locked_until: r.get::<_, Option<i64>>(5)?.map(time),
    })
}

const SESSION_COLUMNS: &str =
    "id, officer_id, desk, created_at, last_seen, access_expires, refresh_expires, revoked_at";

fn session_from(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        officer_id: r.get(1)?,
        desk: r.get(2)?,
        created_at: time(r.get(3)?),
        last_seen: time(r.get(4)?),
        access_expires: time(r.get(5)?),
        refresh_expires: time(r.get(6)?),
        revoked_at: r.get::<_, Option<i64>>(7)?.map(time),
    })
}

const CREDENTIAL_COLUMNS: &str = "id, kind, name, scopes, created_at, revoked_at";

fn credential_from(r: &Row<'_>) -> rusqlite::Result<Credential> {
    let kind: String = r.get(1)?;
    Ok(Credential {
        id: r.get(0)?,
        kind: CredentialKind::parse(&kind).unwrap_or(CredentialKind::Channel),
        name: r.get(2)?,
        scopes: list(&r.get::<_, String>(3)?)
            .iter()
            .filter_map(|s| ServiceScope::parse(s))
            .collect(),
        created_at: time(r.get(4)?),
        revoked_at: r.get::<_, Option<i64>>(5)?.map(time),
    })
}

fn officer_in(tx: &Transaction<'_>, id: &str) -> Result<Option<Officer>, HubError> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {OFFICER_COLUMNS} FROM officers WHERE id = ?1"
        ))?
        .query_row([id], officer_from)
        .optional()?)
}

/// New tokens for session `id`, stored as hashes.
fn issue(
    tx: &Transaction<'_>,
    id: &str,
    now: DateTime<Utc>,
    insert: Option<(&str, &str)>,
) -> Result<SessionTokens, HubError> {
    let (tokens, access, refresh) = new_tokens(id, now)?;
    match insert {
        Some((officer_id, desk)) => {
            tx.prepare_cached(
                "INSERT INTO sessions (id, officer_id, desk, access_hash, access_expires, refresh_hash, refresh_expires, created_at, last_seen) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )?
            .execute(params![id, officer_id, desk, access, ms(tokens.access_expires), refresh, ms(tokens.refresh_expires), ms(now)])?;
        }
        None => {
            tx.prepare_cached(
                "UPDATE sessions SET access_hash = ?2, access_expires = ?3, refresh_hash = ?4, refresh_expires = ?5, last_seen = ?6 WHERE id = ?1",
            )?
            .execute(params![id, access, ms(tokens.access_expires), refresh, ms(tokens.refresh_expires), ms(now)])?;
        }
    }
    Ok(tokens)
}

impl Accounts for SqliteHubStore {
    fn put_post(&self, post: &Post) -> Result<(), HubError> {
        check_id("a post id", &post.id)?;
        self.with_tx(|tx| {
            tx.prepare_cached(
                "INSERT INTO posts (id, name_zh, name_en, countries, subregions) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, \
                 countries = excluded.countries, subregions = excluded.subregions",
            )?
            .execute(params![post.id, post.name_zh, post.name_en, post.countries.join(","), post.subregions.join(",")])?;
            Ok(())
        })
    }

    fn posts(&self) -> Result<Vec<Post>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name_zh, name_en, countries, subregions FROM posts ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Post {
                id: r.get(0)?,
                name_zh: r.get(1)?,
                name_en: r.get(2)?,
                countries: list(&r.get::<_, String>(3)?),
                subregions: list(&r.get::<_, String>(4)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_officer(&self, o: NewOfficer<'_>, now: DateTime<Utc>) -> Result<(), HubError> {
        check_id("an officer id", o.id)?;
        secrets::check_password_rules(o.password).map_err(HubError::Invalid)?;
        let hash = secrets::hash_password(o.password)?;
        self.with_tx(|tx| {
            if let PostScope::Posts(posts) = o.posts {
                for p in posts {
                    let known: bool = tx
                        .prepare_cached("SELECT EXISTS (SELECT 1 FROM posts WHERE id = ?1)")?
                        .query_row([p], |r| r.get(0))?;
                    if !known {
                        return Err(HubError::Invalid(format!(
                            "no post `{p}`: add it first (lifeline-hub posts add)"
                        )));
                    }
                }
            }
            let added = tx
                .prepare_cached(
                    "INSERT INTO officers (id, display_name, role, posts, password_hash, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![o.id, o.display_name, o.role.as_str(), o.posts.to_text(), hash, ms(now)])?;
            if added == 0 {
                return Err(HubError::Conflict(format!("officer `{}` exists already", o.id)));
            }
            Ok(())
        })
    }

    fn officers(&self) -> Result<Vec<Officer>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {OFFICER_COLUMNS} FROM officers ORDER BY id"
        ))?;
        let rows = stmt.query_map([], officer_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn officer(&self, id: &str) -> Result<Option<Officer>, HubError> {
        self.with_tx(|tx| officer_in(tx, id))
    }

    fn set_officer_disabled(&self, id: &str, disabled: bool) -> Result<(), HubError> {
        self.with_tx(|tx| {
            let n = tx
                .prepare_cached("UPDATE officers SET disabled = ?2 WHERE id = ?1")?
                .execute(params![id, disabled])?;
            if n == 0 {
                return Err(HubError::NotFound(format!("no officer `{id}`")));
            }
            if disabled {
                // A disabled officer's desks lose access with their next request.
                tx.prepare_cached(
                    "UPDATE sessions SET revoked_at = ?2 WHERE officer_id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![id, ms(Utc::now())])?;
            }
            Ok(())
        })
    }

    fn set_password(&self, id: &str, password: &str) -> Result<(), HubError> {
        secrets::check_password_rules(password).map_err(HubError::Invalid)?;
        let hash = secrets::hash_password(password)?;
        self.with_tx(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE officers SET password_hash = ?2, failed_signins = 0, locked_until = NULL WHERE id = ?1",
                )?
                .execute(params![id, hash])?;
            if n == 0 {
                return Err(HubError::NotFound(format!("no officer `{id}`")));
            }
            // A reset password ends every session signed in with the old one.
            tx.prepare_cached(
                "UPDATE sessions SET revoked_at = ?2 WHERE officer_id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![id, ms(Utc::now())])?;
            Ok(())
        })
    }

    fn sign_in(
        &self,
        officer_id: &str,
        password: &str,
        desk: &str,
        from: &str,
        now: DateTime<Utc>,
    ) -> Result<SignIn, HubError> {
        let actor = format!("officer:{officer_id}");
        let record = |tx: &Transaction<'_>, action: &str, detail: &str| {
            append_in(
                tx,
                AuditEntry {
                    actor: &actor,
                    action,
                    target: Some(officer_id),
                    detail,
                },
                now,
            )
        };
        if desk.is_empty() || desk.len() > 128 {
            return Err(HubError::Invalid("desk must be 1 to 128 characters".into()));
        }
        // The slow hash runs outside the write lock: one officer signing in never holds up
        // the caseload.
        let stored: Option<(String, bool, Option<i64>)> = {
            let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
            conn.prepare_cached(
                "SELECT password_hash, disabled, locked_until FROM officers WHERE id = ?1",
            )?
            .query_row([officer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
        };
        let Some((hash, _, locked_until)) = stored else {
            let _ = secrets::password_matches(password, secrets::decoy_hash());
            self.with_tx(|tx| {
                record(
                    tx,
                    "sign_in_failed",
                    &format!("no such officer; from {from}"),
                )
            })?;
            return Ok(SignIn::Refused);
        };
        if let Some(until) = locked_until.map(time).filter(|u| *u > now) {
            self.with_tx(|tx| {
                record(
                    tx,
                    "sign_in_locked",
                    &format!("locked until {until}; from {from}"),
                )
            })?;
            return Ok(SignIn::LockedOut { until });
        }
        let right = secrets::password_matches(password, &hash);
        self.with_tx(|tx| {
            // Read again under the write lock: the account may have been disabled or locked
            // while the password was checked.
            let (disabled, locked_until): (bool, Option<i64>) = tx
                .prepare_cached("SELECT disabled, locked_until FROM officers WHERE id = ?1")?
                .query_row([officer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if let Some(until) = locked_until.map(time).filter(|u| *u > now) {
                record(tx, "sign_in_locked", &format!("locked until {until}; from {from}"))?;
                return Ok(SignIn::LockedOut { until });
            }
            if !right {
                let failed: i64 = tx
                    .prepare_cached(
                        "UPDATE officers SET failed_signins = failed_signins + 1 WHERE id = ?1 RETURNING failed_signins",
                    )?
                    .query_row([officer_id], |r| r.get(0))?;
                if failed >= MAX_FAILED_SIGNINS {
                    let until = now + LOCKOUT;
                    tx.prepare_cached(
                        "UPDATE officers SET failed_signins = 0, locked_until = ?2 WHERE id = ?1",
                    )?
                    .execute(params![officer_id, ms(until)])?;
                    record(tx, "sign_in_locked", &format!("{failed} failures in a row, locked until {until}; from {from}"))?;
                    return Ok(SignIn::LockedOut { until });
                }
                record(tx, "sign_in_failed", &format!("wrong password ({failed} in a row); from {from}"))?;
                return Ok(SignIn::Refused);
            }
            if disabled {
                record(tx, "sign_in_disabled", &format!("from {from}"))?;
                return Ok(SignIn::Disabled);
            }
            tx.prepare_cached(
                "UPDATE officers SET failed_signins = 0, locked_until = NULL WHERE id = ?1",
            )?
            .execute([officer_id])?;
            let officer = officer_in(tx, officer_id)?
                .ok_or_else(|| HubError::NotFound(format!("no officer `{officer_id}`")))?;
            let id = secrets::new_id("s-")?;
            let tokens = issue(tx, &id, now, Some((officer_id, desk)))?;
            record(tx, "sign_in", &format!("session {id} at {desk} from {from}"))?;
            Ok(SignIn::Accepted { officer, tokens })
        })
    }

    fn refresh(
        &self,
        refresh_token: &str,
        desk: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionTokens>, HubError> {
        if TokenKind::of(refresh_token) != Some(TokenKind::Refresh) {
            return Ok(None);
        }
        let hash = secrets::token_hash(refresh_token);
        self.with_tx(|tx| {
            let found: Option<(String, String, i64, Option<i64>, bool)> = tx
                .prepare_cached(
                    "SELECT s.id, s.desk, s.refresh_expires, s.revoked_at, o.disabled \
                     FROM sessions s JOIN officers o ON o.id = s.officer_id WHERE s.refresh_hash = ?1",
                )?
                .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .optional()?;
            let Some((id, bound_desk, expires, revoked, disabled)) = found else {
                return Ok(None);
            };
            if bound_desk != desk {
                // A refresh token used from another desk was copied: end the session.
                tx.prepare_cached("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
                    .execute(params![id, ms(now)])?;
                return Ok(None);
            }
            if revoked.is_some() || disabled || time(expires) <= now {
                return Ok(None);
            }
            issue(tx, &id, now, None).map(Some)
        })
    }

    fn token_owner(&self, token: &str, now: DateTime<Utc>) -> Result<Option<TokenOwner>, HubError> {
        let hash = secrets::token_hash(token);
        match TokenKind::of(token) {
            Some(TokenKind::Access) => {
                let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
                let session: Option<Session> = conn
                    .prepare_cached(&format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions WHERE access_hash = ?1"
                    ))?
                    .query_row([&hash], session_from)
                    .optional()?;
                let Some(session) =
                    session.filter(|s| s.revoked_at.is_none() && s.access_expires > now)
                else {
                    return Ok(None);
                };
                let officer: Option<Officer> = conn
                    .prepare_cached(&format!(
                        "SELECT {OFFICER_COLUMNS} FROM officers WHERE id = ?1"
                    ))?
                    .query_row([&session.officer_id], officer_from)
                    .optional()?;
                let Some(officer) = officer.filter(|o| !o.disabled) else {
                    return Ok(None);
                };
                // "Last seen" to the minute: one write a minute per desk, not one per request.
                if now - session.last_seen > chrono::Duration::minutes(1) {
                    conn.prepare_cached("UPDATE sessions SET last_seen = ?2 WHERE id = ?1")?
                        .execute(params![session.id, ms(now)])?;
                }
                Ok(Some(TokenOwner::Officer { officer, session }))
            }
            Some(TokenKind::Channel | TokenKind::Service) => {
                let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
                Ok(conn
                    .prepare_cached(&format!(
                        "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE secret_hash = ?1 AND revoked_at IS NULL"
                    ))?
                    .query_row([&hash], credential_from)
                    .optional()?
                    .map(TokenOwner::Credential))
            }
            Some(TokenKind::Refresh) | None => Ok(None),
        }
    }

    fn sessions(&self, officer_id: Option<&str>) -> Result<Vec<Session>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE ?1 IS NULL OR officer_id = ?1 ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([officer_id], session_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_session(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError> {
        self.with_tx(|tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![id, ms(now)])?
                > 0)
        })
    }

    fn session_live(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        Ok(conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM sessions s JOIN officers o ON o.id = s.officer_id \
                 WHERE s.id = ?1 AND s.revoked_at IS NULL AND s.refresh_expires > ?2 AND o.disabled = 0)",
            )?
            .query_row(params![id, ms(now)], |r| r.get(0))?)
    }

    fn add_credential(
        &self,
        kind: CredentialKind,
        name: &str,
        scopes: &[ServiceScope],
        now: DateTime<Utc>,
    ) -> Result<(Credential, String), HubError> {
        let (id, scopes, secret) = new_credential(kind, name, scopes)?;
        let scope_text: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        self.with_tx(|tx| {
            tx.prepare_cached(
                "INSERT INTO credentials (id, kind, name, scopes, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![id, kind.as_str(), name, scope_text.join(","), secrets::token_hash(&secret), ms(now)])?;
            Ok(())
        })?;
        Ok((
            Credential {
                id,
                kind,
                name: name.to_owned(),
                scopes,
                created_at: now,
                revoked_at: None,
            },
            secret,
        ))
    }

    fn credentials(&self) -> Result<Vec<Credential>, HubError> {
        let conn = self.conn.lock().map_err(|_| HubError::Poisoned)?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credentials ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([], credential_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn rotate_credential(&self, id: &str) -> Result<Option<String>, HubError> {
        self.with_tx(|tx| {
            let kind: Option<String> = tx
                .prepare_cached(
                    "SELECT kind FROM credentials WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let Some(kind) = kind.as_deref().and_then(CredentialKind::parse) else {
                return Ok(None);
            };
            let secret = secrets::new_token(kind.token_kind())?;
            tx.prepare_cached("UPDATE credentials SET secret_hash = ?2 WHERE id = ?1")?
                .execute(params![id, secrets::token_hash(&secret)])?;
            Ok(Some(secret))
        })
    }

    fn revoke_credential(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError> {
        self.with_tx(|tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE credentials SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![id, ms(now)])?
                > 0)
        })
    }
}
