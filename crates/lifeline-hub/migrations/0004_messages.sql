-- The conversation with the citizen. A message is its own record in the change feed: a new
-- message and every later change of its delivery state take the next change number (the
-- hub takes the largest of requests, erasures and messages plus one), so a desk that pulls
-- after its cursor sees each once, in order.
CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    delivery    TEXT NOT NULL,
    change_seq  INTEGER NOT NULL UNIQUE,
    record      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX messages_thread ON messages (request_id, created_at);
CREATE INDEX messages_queued ON messages (change_seq) WHERE direction = 'out' AND delivery = 'queued';

-- Who took each request in (`channel:ID`, `drill`, `dev-token`…): outbound messages go back
-- through that channel only, and only it may post the citizen's messages on the request.
ALTER TABLE requests ADD COLUMN intake_by TEXT;
