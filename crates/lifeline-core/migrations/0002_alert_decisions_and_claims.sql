-- Schema 2: why the desk alerted (or did not), who else is working on a request, and
-- which CAP documents a feed already delivered.

-- Every alert decision with its reason, newest last. The health panel shows the recent
-- ones; officers read it to learn why something did or did not alert.
CREATE TABLE alert_decisions (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    subject     TEXT NOT NULL,          -- `request:<id>`, `advisory:<sender>,<identifier>`, `burst:<place>`, `test`
    decision    TEXT NOT NULL,          -- alerted | escalated | summarized | suppressed | delivery_failed
    reason      TEXT NOT NULL,          -- closed set, see alert::Reason
    title       TEXT,
    body        TEXT,
    level       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_decisions_by_time ON alert_decisions (at);

-- Soft claims from the hub: replaced wholesale whenever the hub sends the live set.
CREATE TABLE claims (
    request_id  TEXT NOT NULL,
    desk        TEXT NOT NULL,
    officer     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (request_id, desk)
);

-- Feed polling skips CAP documents it already stored, by their URL.
CREATE INDEX advisories_by_source ON advisories (source);
