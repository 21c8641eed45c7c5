//! [`Accounts`] on PostgreSQL.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::tx::Tx;

use super::PostgresHubStore;
use super::audit::append_in;
use crate::secrets::{self, TokenKind};
use crate::store::accounts::{
    LOCKOUT, MAX_FAILED_SIGNINS, check_id, list, ms, new_credential, new_tokens, time,
};
use crate::store::{
    Accounts, AuditEntry, Credential, CredentialKind, HubError, NewOfficer, Officer, Post,
    PostScope, Role, ServiceScope, Session, SessionTokens, SignIn, TokenOwner,
};

const OFFICER_COLUMNS: &str = "id, display_name, role, posts, disabled, locked_until";

fn officer_from(r: &Row) -> Result<Officer, HubError> {
    Ok(Officer {
        id: r.try_get(0)?,
        display_name: r.try_get(1)?,
        // The column's CHECK admits only known roles.
        role: Role::parse(r.try_get(2)?).unwrap_or(Role::RegionalViewer),
        posts: PostScope::parse(r.try_get(3)?),
        disabled: r.try_get(4)?,
        locked_until: r.try_get::<_, Option<i64>>(5)?.map(time),
    })
}

const SESSION_COLUMNS: &str =
    "id, officer_id, desk, created_at, last_seen, access_expires, refresh_expires, revoked_at";

fn session_from(r: &Row) -> Result<Session, HubError> {
    Ok(Session {
        id: r.try_get(0)?,
        officer_id: r.try_get(1)?,
        desk: r.try_get(2)?,
        created_at: time(r.try_get(3)?),
        last_seen: time(r.try_get(4)?),
        access_expires: time(r.try_get(5)?),
        refresh_expires: time(r.try_get(6)?),
        revoked_at: r.try_get::<_, Option<i64>>(7)?.map(time),
    })
}

const CREDENTIAL_COLUMNS: &str = "id, kind, name, scopes, created_at, revoked_at";

fn credential_from(r: &Row) -> Result<Credential, HubError> {
    Ok(Credential {
        id: r.try_get(0)?,
        kind: CredentialKind::parse(r.try_get(1)?).unwrap_or(CredentialKind::Channel),
        name: r.try_get(2)?,
        scopes: list(r.try_get(3)?)
            .iter()
            .filter_map(|s| ServiceScope::parse(s))
            .collect(),
        created_at: time(r.try_get(4)?),
        revoked_at: r.try_get::<_, Option<i64>>(5)?.map(time),
    })
}

async fn officer_in(tx: &Tx<'_>, id: &str) -> Result<Option<Officer>, HubError> {
    tx.query_opt(
        &format!("SELECT {OFFICER_COLUMNS} FROM officers WHERE id = $1"),
        &[&id],
    )
    .await?
    .as_ref()
    .map(officer_from)
    .transpose()
}

/// New tokens for session `id`, stored as hashes (a new session when `insert` names its
/// officer and desk).
async fn issue(
    tx: &Tx<'_>,
    id: &str,
    now: DateTime<Utc>,
    insert: Option<(&str, &str)>,
) -> Result<SessionTokens, HubError> {
    let (tokens, access, refresh) = new_tokens(id, now)?;
    let (access_expires, refresh_expires) = (ms(tokens.access_expires), ms(tokens.refresh_expires));
    match insert {
        Some((officer_id, desk)) => {
            tx.execute(
                "INSERT INTO sessions (id, officer_id, desk, access_hash, access_expires, refresh_hash, refresh_expires, created_at, last_seen) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                &[&id, &officer_id, &desk, &access, &access_expires, &refresh, &refresh_expires, &ms(now)],
            )
            .await?;
        }
        None => {
            tx.execute(
                "UPDATE sessions SET access_hash = $2, access_expires = $3, refresh_hash = $4, refresh_expires = $5, last_seen = $6 WHERE id = $1",
                &[&id, &access, &access_expires, &refresh, &refresh_expires, &ms(now)],
            )
            .await?;
        }
    }
    Ok(tokens)
}

/// Ends every live session of an officer (disabled, or a new password).
async fn revoke_all(tx: &Tx<'_>, officer_id: &str) -> Result<(), HubError> {
    tx.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE officer_id = $1 AND revoked_at IS NULL",
        &[&officer_id, &ms(Utc::now())],
    )
    .await?;
    Ok(())
}

impl Accounts for PostgresHubStore {
    fn put_post(&self, post: &Post) -> Result<(), HubError> {
        check_id("a post id", &post.id)?;
        self.with_tx(async |tx| {
            tx.execute(
                "INSERT INTO posts (id, name_zh, name_en, countries, subregions) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, \
                 countries = excluded.countries, subregions = excluded.subregions",
                &[&post.id, &post.name_zh, &post.name_en, &post.countries.join(","), &post.subregions.join(",")],
            )
            .await?;
            Ok(())
        })
    }

    fn posts(&self) -> Result<Vec<Post>, HubError> {
        self.with_read(async |tx| {
            let rows = tx
                .query(
                    "SELECT id, name_zh, name_en, countries, subregions FROM posts ORDER BY id",
                    &[],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(Post {
                    id: r.try_get(0)?,
                    name_zh: r.try_get(1)?,
                    name_en: r.try_get(2)?,
                    countries: list(r.try_get(3)?),
                    subregions: list(r.try_get(4)?),
                });
            }
            Ok(out)
        })
    }

    fn add_officer(&self, o: NewOfficer<'_>, now: DateTime<Utc>) -> Result<(), HubError> {
        check_id("an officer id", o.id)?;
        secrets::check_password_rules(o.password).map_err(HubError::Invalid)?;
        let hash = secrets::hash_password(o.password)?;
        self.with_tx(async |tx| {
            if let PostScope::Posts(posts) = o.posts {
                for p in posts {
                    let known: bool = tx
                        .query_one("SELECT EXISTS (SELECT 1 FROM posts WHERE id = $1)", &[p])
                        .await?
                        .try_get(0)?;
                    if !known {
                        return Err(HubError::Invalid(format!(
                            "no post `{p}`: add it first (lifeline-hub posts add)"
                        )));
                    }
                }
            }
            let added = tx
                .execute(
                    "INSERT INTO officers (id, display_name, role, posts, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                    &[&o.id, &o.display_name, &o.role.as_str(), &o.posts.to_text(), &hash, &ms(now)],
                )
                .await?;
            if added == 0 {
                return Err(HubError::Conflict(format!(
                    "officer `{}` exists already",
                    o.id
                )));
            }
            Ok(())
        })
    }

    fn officers(&self) -> Result<Vec<Officer>, HubError> {
        self.with_read(async |tx| {
            tx.query(
                &format!("SELECT {OFFICER_COLUMNS} FROM officers ORDER BY id"),
                &[],
            )
            .await?
            .iter()
            .map(officer_from)
            .collect()
        })
    }

    fn officer(&self, id: &str) -> Result<Option<Officer>, HubError> {
        self.with_read(async |tx| officer_in(tx, id).await)
    }

    fn set_officer_disabled(&self, id: &str, disabled: bool) -> Result<(), HubError> {
        self.with_tx(async |tx| {
            let n = tx
                .execute(
                    "UPDATE officers SET disabled = $2 WHERE id = $1",
                    &[&id, &disabled],
                )
                .await?;
            if n == 0 {
                return Err(HubError::NotFound(format!("no officer `{id}`")));
            }
            if disabled {
                revoke_all(tx, id).await?;
            }
            Ok(())
        })
    }

    fn set_password(&self, id: &str, password: &str) -> Result<(), HubError> {
        secrets::check_password_rules(password).map_err(HubError::Invalid)?;
        let hash = secrets::hash_password(password)?;
        self.with_tx(async |tx| {
            let n = tx
                .execute(
                    "UPDATE officers SET password_hash = $2, failed_signins = 0, locked_until = NULL WHERE id = $1",
                    &[&id, &hash],
                )
                .await?;
            if n == 0 {
                return Err(HubError::NotFound(format!("no officer `{id}`")));
            }
            revoke_all(tx, id).await
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
        let entry = |action: &'static str, detail: String| (action, detail);
        let record = async |tx: &Tx<'_>, (action, detail): (&str, String)| {
            append_in(
                tx,
                AuditEntry {
                    actor: &actor,
                    action,
                    target: Some(officer_id),
                    detail: &detail,
                },
                now,
            )
            .await
        };
        if desk.is_empty() || desk.len() > 128 {
            return Err(HubError::Invalid("desk must be 1 to 128 characters".into()));
        }
        // The slow hash runs outside the write lock: one officer signing in never holds up
        // the caseload.
        let stored: Option<(String, bool, Option<i64>)> = self.with_read(async |tx| {
            tx.query_opt(
                "SELECT password_hash, disabled, locked_until FROM officers WHERE id = $1",
                &[&officer_id],
            )
            .await?
            .map(|r| Ok::<_, HubError>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .transpose()
        })?;
        let Some((hash, _, locked_until)) = stored else {
            let _ = secrets::password_matches(password, secrets::decoy_hash());
            self.with_tx(async |tx| {
                record(
                    tx,
                    entry("sign_in_failed", format!("no such officer; from {from}")),
                )
                .await
            })?;
            return Ok(SignIn::Refused);
        };
        if let Some(until) = locked_until.map(time).filter(|u| *u > now) {
            self.with_tx(async |tx| {
                record(
                    tx,
                    entry(
                        "sign_in_locked",
                        format!("locked until {until}; from {from}"),
                    ),
                )
                .await
            })?;
            return Ok(SignIn::LockedOut { until });
        }
        let right = secrets::password_matches(password, &hash);
        self.with_tx(async |tx| {
            // Read again under the write lock: the account may have been disabled or locked
            // while the password was checked (on this replica or another).
            let row = tx
                .query_one(
                    "SELECT disabled, locked_until FROM officers WHERE id = $1",
                    &[&officer_id],
                )
                .await?;
            let (disabled, locked_until): (bool, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
            if let Some(until) = locked_until.map(time).filter(|u| *u > now) {
                record(
                    tx,
                    entry("sign_in_locked", format!("locked until {until}; from {from}")),
                )
                .await?;
                return Ok(SignIn::LockedOut { until });
            }
            if !right {
                let failed: i64 = tx
                    .query_one(
                        "UPDATE officers SET failed_signins = failed_signins + 1 WHERE id = $1 RETURNING failed_signins",
                        &[&officer_id],
                    )
                    .await?
                    .try_get(0)?;
                if failed >= MAX_FAILED_SIGNINS {
                    let until = now + LOCKOUT;
                    tx.execute(
                        "UPDATE officers SET failed_signins = 0, locked_until = $2 WHERE id = $1",
                        &[&officer_id, &ms(until)],
                    )
                    .await?;
                    record(tx, entry("sign_in_locked", format!("{failed} failures in a row, locked until {until}; from {from}"))).await?;
                    return Ok(SignIn::LockedOut { until });
                }
                record(tx, entry("sign_in_failed", format!("wrong password ({failed} in a row); from {from}"))).await?;
                return Ok(SignIn::Refused);
            }
            if disabled {
                record(tx, entry("sign_in_disabled", format!("from {from}"))).await?;
                return Ok(SignIn::Disabled);
            }
            tx.execute(
                "UPDATE officers SET failed_signins = 0, locked_until = NULL WHERE id = $1",
                &[&officer_id],
            )
            .await?;
            let officer = officer_in(tx, officer_id)
                .await?
                .ok_or_else(|| HubError::NotFound(format!("no officer `{officer_id}`")))?;
            let id = secrets::new_id("s-")?;
            let tokens = issue(tx, &id, now, Some((officer_id, desk))).await?;
            record(tx, entry("sign_in", format!("session {id} at {desk} from {from}"))).await?;
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
        self.with_tx(async |tx| {
            let Some(row) = tx
                .query_opt(
                    "SELECT s.id, s.desk, s.refresh_expires, s.revoked_at, o.disabled \
                     FROM sessions s JOIN officers o ON o.id = s.officer_id WHERE s.refresh_hash = $1",
                    &[&hash],
                )
                .await?
            else {
                return Ok(None);
            };
            let id: String = row.try_get(0)?;
            let bound_desk: &str = row.try_get(1)?;
            let expires: i64 = row.try_get(2)?;
            let revoked: Option<i64> = row.try_get(3)?;
            let disabled: bool = row.try_get(4)?;
            if bound_desk != desk {
                // A refresh token used from another desk was copied: end the session.
                tx.execute(
                    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &ms(now)],
                )
                .await?;
                return Ok(None);
            }
            if revoked.is_some() || disabled || time(expires) <= now {
                return Ok(None);
            }
            issue(tx, &id, now, None).await.map(Some)
        })
    }

    fn token_owner(&self, token: &str, now: DateTime<Utc>) -> Result<Option<TokenOwner>, HubError> {
        let hash = secrets::token_hash(token);
        match TokenKind::of(token) {
            Some(TokenKind::Access) => {
                let found = self.with_read(async |tx| {
                    let Some(session) = tx
                        .query_opt(
                            &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE access_hash = $1"),
                            &[&hash],
                        )
                        .await?
                        .as_ref()
                        .map(session_from)
                        .transpose()?
                        .filter(|s| s.revoked_at.is_none() && s.access_expires > now)
                    else {
                        return Ok(None);
                    };
                    let officer = officer_in(tx, &session.officer_id).await?;
                    Ok(officer
                        .filter(|o| !o.disabled)
                        .map(|officer| (officer, session)))
                })?;
                let Some((officer, session)) = found else {
                    return Ok(None);
                };
                // "Last seen" to the minute: one write a minute per desk, not one per request.
                // Not a change of the feed, so it goes without the write lock.
                if now - session.last_seen > chrono::Duration::minutes(1) {
                    let client = self.client()?;
                    futures_executor::block_on(client.execute(
                        "UPDATE sessions SET last_seen = $2 WHERE id = $1",
                        &[&session.id, &ms(now)],
                    ))?;
                }
                Ok(Some(TokenOwner::Officer { officer, session }))
            }
            Some(TokenKind::Channel | TokenKind::Service) => self.with_read(async |tx| {
                Ok(tx
                    .query_opt(
                        &format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE secret_hash = $1 AND revoked_at IS NULL"),
                        &[&hash],
                    )
                    .await?
                    .as_ref()
                    .map(credential_from)
                    .transpose()?
                    .map(TokenOwner::Credential))
            }),
            Some(TokenKind::Refresh) | None => Ok(None),
        }
    }

    fn sessions(&self, officer_id: Option<&str>) -> Result<Vec<Session>, HubError> {
        self.with_read(async |tx| {
            tx.query(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE $1::TEXT IS NULL OR officer_id = $1 ORDER BY created_at"),
                &[&officer_id],
            )
            .await?
            .iter()
            .map(session_from)
            .collect()
        })
    }

    fn revoke_session(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError> {
        self.with_tx(async |tx| {
            Ok(tx
                .execute(
                    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &ms(now)],
                )
                .await?
                > 0)
        })
    }

    fn session_live(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError> {
        self.with_read(async |tx| {
            Ok(tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM sessions s JOIN officers o ON o.id = s.officer_id \
                     WHERE s.id = $1 AND s.revoked_at IS NULL AND s.refresh_expires > $2 AND NOT o.disabled)",
                    &[&id, &ms(now)],
                )
                .await?
                .try_get(0)?)
        })
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
        self.with_tx(async |tx| {
            tx.execute(
                "INSERT INTO credentials (id, kind, name, scopes, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &kind.as_str(), &name, &scope_text.join(","), &secrets::token_hash(&secret), &ms(now)],
            )
            .await?;
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
        self.with_read(async |tx| {
            tx.query(
                &format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials ORDER BY created_at"),
                &[],
            )
            .await?
            .iter()
            .map(credential_from)
            .collect()
        })
    }

    fn rotate_credential(&self, id: &str) -> Result<Option<String>, HubError> {
        self.with_tx(async |tx| {
            let kind = tx
                .query_opt(
                    "SELECT kind FROM credentials WHERE id = $1 AND revoked_at IS NULL",
                    &[&id],
                )
                .await?
                .map(|r| r.try_get::<_, String>(0))
                .transpose()?;
            let Some(kind) = kind.as_deref().and_then(CredentialKind::parse) else {
                return Ok(None);
            };
            let secret = secrets::new_token(kind.token_kind())?;
            tx.execute(
                "UPDATE credentials SET secret_hash = $2 WHERE id = $1",
                &[&id, &secrets::token_hash(&secret)],
            )
            .await?;
            Ok(Some(secret))
        })
    }

    fn revoke_credential(&self, id: &str, now: DateTime<Utc>) -> Result<bool, HubError> {
        self.with_tx(async |tx| {
            Ok(tx
                .execute(
                    "UPDATE credentials SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &ms(now)],
                )
                .await?
                > 0)
        })
    }
}
