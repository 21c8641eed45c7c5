-- Schema 5: the conversation with the citizen. A message is kept as the hub sends it in the
-- change feed (a later delivery state replaces the row); an officer's message written on
-- this desk is kept at once as `pending`, under the id the hub will give it (from its
-- outbox key), so the hub's copy replaces it. `seen_at` is this desk's own: when an officer
-- here had the thread on screen (unread counts).
CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    direction   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    template    TEXT,
    author      TEXT,
    lat         REAL,
    lon         REAL,
    delivery    TEXT NOT NULL,
    failure     TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    seen_at     INTEGER
);
CREATE INDEX messages_thread ON messages (request_id, created_at);
CREATE INDEX messages_unseen ON messages (request_id) WHERE direction = 'in' AND seen_at IS NULL;
