-- Schema 3: the indexes that serve queries leave the write path.
--
-- The text index (FTS5), the spatial index (R*Tree) and the queue's and filters' B-tree
-- indexes move to the derived query index, a second SQLite file beside this one that is
-- rebuilt from this file whenever it is missing or does not match (src/store/derived.rs).
-- What stays here makes a synced request one row and its id key, plus its case events.

DROP TABLE requests_rtree;
DROP TABLE requests_fts;

-- The requests table, rebuilt (same columns, same rowids) without its five secondary
-- indexes, and with `local_state` checked by comparisons instead of `IN (...)`: SQLite
-- evaluates an IN list of three or more constants in a CHECK by building a temporary
-- B-tree on every INSERT, which measured ~30% of an upsert.
CREATE TABLE requests_v3 (
    rowid           INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    category        TEXT NOT NULL,
    emergency       INTEGER NOT NULL CHECK (emergency IN (0, 1)),
    priority        INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),  -- 0 critical .. 3 low
    status          TEXT NOT NULL,
    is_open         INTEGER NOT NULL CHECK (is_open IN (0, 1)),         -- status in (new, acknowledged, in_progress)
    -- Queue order: open emergencies (0), then open by priority (1..4), then finished (5).
    triage_rank     INTEGER NOT NULL,
    duplicate_of    TEXT,
    citizen_name    TEXT NOT NULL,
    citizen_phone   TEXT,
    citizen_id_doc  TEXT,
    citizen_nationality TEXT,
    citizen_language TEXT,
    people_count    INTEGER NOT NULL,
    lat             REAL,
    lon             REAL,
    accuracy_m      REAL,
    located_at      INTEGER,            -- ms since epoch, UTC
    address         TEXT,
    country         TEXT,
    description     TEXT NOT NULL,
    attachments     TEXT NOT NULL DEFAULT '[]',   -- JSON array
    assignee        TEXT,
    post            TEXT,
    created_at      INTEGER NOT NULL,   -- ms since epoch, UTC
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL,   -- the hub's version; never goes backwards
    local_state     TEXT NOT NULL DEFAULT 'synced'
                    CHECK (local_state = 'synced' OR local_state = 'pending' OR local_state = 'conflict'),
    source          TEXT NOT NULL,      -- hub URL or imported file
    CHECK ((lat IS NULL) = (lon IS NULL))
);
INSERT INTO requests_v3 (rowid, id, channel, category, emergency, priority, status, is_open, triage_rank,
        duplicate_of, citizen_name, citizen_phone, citizen_id_doc, citizen_nationality, citizen_language,
        people_count, lat, lon, accuracy_m, located_at, address, country, description, attachments, assignee,
        post, created_at, updated_at, version, local_state, source)
    SELECT rowid, id, channel, category, emergency, priority, status, is_open, triage_rank,
        duplicate_of, citizen_name, citizen_phone, citizen_id_doc, citizen_nationality, citizen_language,
        people_count, lat, lon, accuracy_m, located_at, address, country, description, attachments, assignee,
        post, created_at, updated_at, version, local_state, source
    FROM requests ORDER BY rowid;
DROP TABLE requests;   -- its indexes go with it
ALTER TABLE requests_v3 RENAME TO requests;

-- Who this database is, so that a derived index built from another database (a copy, a
-- restored backup) is rebuilt instead of trusted; and how far the change log was pruned.
CREATE TABLE store_meta (
    key     TEXT PRIMARY KEY,
    value   NOT NULL
);
INSERT INTO store_meta (key, value) VALUES
    ('identity', lower(hex(randomblob(16)))),
    ('changes_pruned_through', 0);

-- Requests changed since they were first written (a newer version or a local edit, by the
-- trigger below; a new note, by the store when it appends one), for the derived index to
-- catch up with. New requests need no entry: they are found by rowid, which is why a
-- request is never deleted (a deleted last rowid would be reused).
CREATE TABLE request_changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after pruning
    request_rowid   INTEGER NOT NULL
);
CREATE TRIGGER requests_log_change AFTER UPDATE ON requests
BEGIN INSERT INTO request_changes (request_rowid) VALUES (new.rowid); END;
CREATE TRIGGER requests_never_deleted BEFORE DELETE ON requests
BEGIN SELECT RAISE(ABORT, 'help requests are never deleted'); END;

-- The case-event log, rebuilt with one key instead of two: events are unique per request
-- (an event belongs to exactly one), and that key also serves "the events of a request".
-- Measured at 10^6 requests: the UNIQUE (event_id) and (request_id, at) indexes cost about
-- as much as the request row itself. `origin` is checked without IN (see above).
DROP TRIGGER case_events_append_only_update;
DROP TRIGGER case_events_append_only_delete;
CREATE TABLE case_events_v3 (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,          -- JSON, the tagged CaseEventKind
    actor       TEXT,
    at          INTEGER NOT NULL,
    origin      TEXT NOT NULL CHECK (origin = 'sync' OR origin = 'desk' OR origin = 'import')
);
INSERT INTO case_events_v3 (seq, event_id, request_id, kind, detail, actor, at, origin)
    SELECT seq, event_id, request_id, kind, detail, actor, at, origin FROM case_events ORDER BY seq;
DROP TABLE case_events;
ALTER TABLE case_events_v3 RENAME TO case_events;
CREATE UNIQUE INDEX case_events_by_request ON case_events (request_id, event_id);
CREATE TRIGGER case_events_append_only_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'the case-event log is append-only'); END;
CREATE TRIGGER case_events_append_only_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'the case-event log is append-only'); END;
