-- The hub's store on PostgreSQL, schema 1: the same records as the SQLite file's five
-- schemas, in one. Applied at start under an advisory lock, so replicas starting together
-- migrate once. Times are Unix milliseconds, as in the SQLite file.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The change feed's head: every change takes `head + 1` here, in the transaction that makes
-- it, while holding the hub's write lock (see `store/postgres/mod.rs`). A change numbered N
-- is therefore committed before N + 1 is handed out, and a reader never sees N + 1 without N.
CREATE TABLE feed (
    only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    head      BIGINT NOT NULL
);
INSERT INTO feed (only_row, head) VALUES (TRUE, 0);

CREATE TABLE requests (
    id          TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    change_seq  BIGINT NOT NULL UNIQUE,
    record      TEXT NOT NULL,          -- protocol JSON, without events
    created_at  BIGINT NOT NULL,
    post        TEXT,
    intake_by   TEXT
);
CREATE INDEX requests_by_post ON requests (post, change_seq);

CREATE TABLE events (
    seq         BIGSERIAL PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    request_id  TEXT NOT NULL,
    body        TEXT NOT NULL           -- protocol JSON of the event
);
CREATE INDEX events_by_request ON events (request_id, seq);

-- The first answer to every triage action, by idempotency key.
CREATE TABLE idempotency (
    key         TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX idempotency_by_request ON idempotency (request_id);

CREATE TABLE advisories (
    id           BIGSERIAL PRIMARY KEY,
    sender       TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    sent         TEXT NOT NULL,
    title        TEXT NOT NULL,
    xml          TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    UNIQUE (sender, identifier)
);

CREATE TABLE post_departures (
    change_seq  BIGINT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    post        TEXT
);
CREATE INDEX post_departures_by_request ON post_departures (request_id);

CREATE TABLE erasures (
    change_seq  BIGINT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    erased_at   BIGINT NOT NULL
);

CREATE TABLE posts (
    id          TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    countries   TEXT NOT NULL,
    subregions  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE officers (
    id              TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('duty_officer', 'supervisor', 'regional_viewer', 'admin')),
    posts           TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    failed_signins  BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    officer_id      TEXT NOT NULL REFERENCES officers (id),
    desk            TEXT NOT NULL,
    access_hash     TEXT NOT NULL UNIQUE,
    access_expires  BIGINT NOT NULL,
    refresh_hash    TEXT NOT NULL UNIQUE,
    refresh_expires BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX sessions_by_officer ON sessions (officer_id);

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('channel', 'service')),
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Append-only; each entry's hash covers the previous one's. Only rotation deletes, with
-- `lifeline.audit_rotating` set for its own transaction.
CREATE TABLE audit (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lifeline.audit_rotating', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only; rotate it with lifeline-hub audit rotate';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    delivery    TEXT NOT NULL,
    change_seq  BIGINT NOT NULL UNIQUE,
    record      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    media_sha   TEXT
);
CREATE INDEX messages_thread ON messages (request_id, created_at);
CREATE INDEX messages_queued ON messages (change_seq) WHERE direction = 'out' AND delivery = 'queued';
CREATE INDEX messages_media ON messages (media_sha) WHERE media_sha IS NOT NULL;

CREATE TABLE media (
    sha256       TEXT PRIMARY KEY,
    media_type   TEXT NOT NULL,
    size         BIGINT NOT NULL,
    uploaded_by  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    bytes        BYTEA NOT NULL
);
CREATE INDEX media_age ON media (created_at);

CREATE TABLE media_uploads (
    sha256   TEXT NOT NULL,
    channel  TEXT NOT NULL,
    PRIMARY KEY (sha256, channel)
);

-- Soft claims, shared by every replica; each expires on its own (`expires_at`).
CREATE TABLE claims (
    request_id  TEXT NOT NULL,
    desk        TEXT NOT NULL,
    officer     TEXT NOT NULL,
    session     TEXT,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (request_id, desk)
);
