-- Schema 2: who may call the hub and what they did. Posts and routing, officers and their
-- sessions, intake channels and service accounts, the hash-chained audit trail, and the
-- departures that tell a post's desks to drop a request that moved away.

-- The post a request is routed to, out of the record so the feed can filter on it.
ALTER TABLE requests ADD COLUMN post TEXT;
UPDATE requests SET post = json_extract(record, '$.post');
CREATE INDEX requests_by_post ON requests (post, change_seq);

-- A request left `post` at `change_seq`: desks of that post drop it (a tombstone in their
-- feed). It shares the number of the change that moved the request.
CREATE TABLE post_departures (
    change_seq  INTEGER PRIMARY KEY,
    request_id  TEXT NOT NULL,
    post        TEXT
);

-- Answers stored in the outcome form (older rows keep status + response only).
ALTER TABLE idempotency ADD COLUMN outcome TEXT;

CREATE TABLE posts (
    id          TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    countries   TEXT NOT NULL,           -- comma-separated ISO 3166-1 alpha-2
    subregions  TEXT NOT NULL DEFAULT '' -- comma-separated ISO 3166-2
) WITHOUT ROWID;

CREATE TABLE officers (
    id              TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role = 'duty_officer' OR role = 'supervisor' OR role = 'regional_viewer' OR role = 'admin'),
    posts           TEXT NOT NULL,       -- comma-separated post ids, or '*'
    password_hash   TEXT NOT NULL,       -- Argon2id, PHC string
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_signins  INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;

-- One signed-in desk. Tokens are random; only their SHA-256 is kept.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    officer_id      TEXT NOT NULL REFERENCES officers (id),
    desk            TEXT NOT NULL,
    access_hash     TEXT NOT NULL UNIQUE,
    access_expires  INTEGER NOT NULL,
    refresh_hash    TEXT NOT NULL UNIQUE,
    refresh_expires INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    revoked_at      INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_by_officer ON sessions (officer_id);

-- Intake channels and service accounts.
CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind = 'channel' OR kind = 'service'),
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,           -- comma-separated
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) WITHOUT ROWID;

-- Append-only (triggers below); each entry's hash covers the previous one's.
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- Only rotation removes entries (it sets `audit_rotating` for its own transaction).
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN (SELECT value FROM meta WHERE key = 'audit_rotating') IS NOT '1'
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only; rotate it with lifeline-hub audit rotate'); END;
