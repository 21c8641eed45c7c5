-- The reference hub's store, schema 1. Applied in one transaction with user_version.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Current state of every request. `change_seq` orders the change feed: every create or
-- change takes the next number, so "everything after cursor N" is an index range scan.
CREATE TABLE requests (
    id          TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    change_seq  INTEGER NOT NULL UNIQUE,
    record      TEXT NOT NULL,          -- protocol JSON, without events
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    request_id  TEXT NOT NULL,
    body        TEXT NOT NULL           -- protocol JSON of the event
);
CREATE INDEX events_by_request ON events (request_id, seq);

-- The first answer to every triage action, by idempotency key: a replay gets it again.
CREATE TABLE idempotency (
    key         TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    status      INTEGER NOT NULL,
    response    TEXT NOT NULL,
    at          INTEGER NOT NULL
) WITHOUT ROWID;

-- CAP documents the hub relays.
CREATE TABLE advisories (
    id          INTEGER PRIMARY KEY,
    sender      TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    sent        TEXT NOT NULL,
    title       TEXT NOT NULL,
    xml         TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    UNIQUE (sender, identifier)
);
