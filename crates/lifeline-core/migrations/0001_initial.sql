-- Lifeline desk store, schema 1.
-- Applied in one transaction together with `PRAGMA user_version = 1`. Never edit once shipped:
-- add a new numbered file instead (see NOTES.md).

-- Help requests. `rowid` is the key for the R*Tree and FTS tables; `id` is the hub's id.
CREATE TABLE requests (
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
    local_state     TEXT NOT NULL DEFAULT 'synced' CHECK (local_state IN ('synced', 'pending', 'conflict')),
    source          TEXT NOT NULL,      -- hub URL or imported file
    CHECK ((lat IS NULL) = (lon IS NULL))
);
CREATE INDEX requests_queue ON requests (triage_rank, created_at DESC);
CREATE INDEX requests_created ON requests (created_at);
CREATE INDEX requests_country ON requests (country, created_at);
CREATE INDEX requests_post ON requests (post, created_at);
CREATE INDEX requests_open_emergencies ON requests (created_at) WHERE emergency = 1 AND is_open = 1;

-- One box per located request (min = max); rowid = requests.rowid. Coordinates are stored
-- as 32-bit floats rounded outwards, so queries re-check the exact lat/lon.
CREATE VIRTUAL TABLE requests_rtree USING rtree (id, min_lon, max_lon, min_lat, max_lat);

-- Full-text index. Contentless (the text lives in `requests`) with deletes enabled.
-- Text is pre-segmented by the store (see store/search.rs): runs of CJK characters become
-- overlapping bigrams, which unicode61 then treats as words; `unigrams` holds single CJK
-- characters so one-character queries work too. `ref` holds the request's id, so an officer
-- can find a request by typing its number.
CREATE VIRTUAL TABLE requests_fts USING fts5 (
    description, name, address, notes, ref, unigrams,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The case-event log: append-only (the triggers refuse updates and deletes).
CREATE TABLE case_events (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    request_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,          -- JSON, the tagged CaseEventKind
    actor       TEXT,
    at          INTEGER NOT NULL,
    origin      TEXT NOT NULL CHECK (origin IN ('sync', 'desk', 'import'))
);
CREATE INDEX case_events_request ON case_events (request_id, at);
CREATE TRIGGER case_events_append_only_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'the case-event log is append-only'); END;
CREATE TRIGGER case_events_append_only_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'the case-event log is append-only'); END;

-- Local triage edits waiting for (or answered by) the hub.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_id      TEXT NOT NULL,
    action          TEXT NOT NULL,      -- JSON TriageAction
    actor           TEXT NOT NULL,
    base_version    INTEGER NOT NULL,   -- the hub version the action applies to
    state           TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'conflicted', 'rejected', 'dismissed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    result_version  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_by_state ON outbox (state, seq);
CREATE INDEX outbox_by_request ON outbox (request_id, seq);

-- The hub's own copy of a request while local edits are pending on it, so the desk can
-- re-apply its pending edits on top of each newer hub version, or drop a rejected one.
CREATE TABLE local_bases (
    request_id  TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    record      TEXT NOT NULL           -- JSON, protocol form
);

-- Advisories keyed on (sender, identifier) as CAP requires.
CREATE TABLE advisories (
    id              INTEGER PRIMARY KEY,
    sender          TEXT NOT NULL,
    identifier      TEXT NOT NULL,
    source          TEXT NOT NULL,
    source_format   TEXT NOT NULL,
    msg_type        TEXT NOT NULL,
    status          TEXT NOT NULL,
    scope           TEXT NOT NULL,
    sent            TEXT NOT NULL,      -- as published
    sent_ms         INTEGER NOT NULL,
    refs            TEXT NOT NULL,      -- JSON [[sender, identifier, sent], ...]
    infos           TEXT NOT NULL,      -- JSON array of info blocks
    hazard          TEXT,               -- JSON HazardDetails
    severity_rank   INTEGER NOT NULL,   -- 0 Extreme .. 4 Unknown
    expires_ms      INTEGER,            -- NULL: does not expire
    state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'superseded', 'cancelled')),
    source_version  INTEGER,            -- hazard feeds: USGS `updated`, GDACS `version`
    imported_at     INTEGER NOT NULL,
    UNIQUE (sender, identifier)
);
CREATE INDEX advisories_active ON advisories (state, severity_rank, sent_ms DESC);

CREATE TABLE advisory_areas (
    id          INTEGER PRIMARY KEY,
    advisory_id INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    description TEXT NOT NULL,
    geometry    TEXT,                   -- GeoJSON, split at the antimeridian
    circles     TEXT NOT NULL DEFAULT '[]',  -- JSON [[lat, lon, radius_m], ...]
    geocodes    TEXT NOT NULL DEFAULT '[]'   -- JSON [[name, value], ...]
);
CREATE INDEX advisory_areas_by_advisory ON advisory_areas (advisory_id);

-- One box per polygon part (or circle) of an area.
CREATE VIRTUAL TABLE advisory_area_rtree USING rtree (id, min_lon, max_lon, min_lat, max_lat, +area_id INTEGER);

-- Every reference an Update or Cancel makes, kept even when the referenced alert has not
-- arrived yet, so the alert is born superseded or cancelled when it does.
CREATE TABLE advisory_references (
    sender      TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    by_advisory INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    effect      TEXT NOT NULL CHECK (effect IN ('superseded', 'cancelled')),
    PRIMARY KEY (sender, identifier, by_advisory)
);

-- Other ids a hazard source has given an event (USGS `ids`).
CREATE TABLE advisory_aliases (
    source_format TEXT NOT NULL,
    alias         TEXT NOT NULL,
    advisory_id   INTEGER NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    PRIMARY KEY (source_format, alias)
);

-- Per-source sync state and health.
CREATE TABLE sync_sources (
    source          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('hub', 'feed')),
    cursor          TEXT,
    etag            TEXT,
    last_modified   TEXT,
    connection      TEXT NOT NULL DEFAULT 'offline' CHECK (connection IN ('connected', 'polling', 'reconnecting', 'offline')),
    last_attempt    INTEGER,
    last_success    INTEGER,
    last_error      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    lag_ms          INTEGER
);

-- Records rejected at the edge, kept verbatim (capped) with the reason.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    record_ref  TEXT,                   -- e.g. `line 12`, `feature 3`, `entry urn:...`
    reason      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX quarantine_by_time ON quarantine (at);

-- Emergencies (and advisories) already alerted on this desk: survives restarts, so nothing
-- alerts twice.
CREATE TABLE alerted (
    subject     TEXT PRIMARY KEY,       -- `request:<id>` or `advisory:<sender>,<identifier>`
    first_at    INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    level       INTEGER NOT NULL,       -- 1 first alert, 2.. escalations
    alerts_sent INTEGER NOT NULL
);
