-- Schema 4: a request can leave the desk. The hub moves a request to another post (this
-- desk loses the right to see it), and later retention and erasure remove requests too.
--
-- Removal is the store's own operation (store/removal.rs): it raises `removing` in
-- store_meta for the length of its transaction, and the triggers refuse a delete of a
-- request or a case event at any other time, as before.
--
-- The derived query index finds new requests by rowid. A deleted highest rowid is handed
-- out again by SQLite, so the rowid high-water mark of deleted requests is kept, and an
-- insert at or below it is logged as a change: the index then catches up on it like on
-- any other changed row.

INSERT INTO store_meta (key, value) VALUES ('removing', 0), ('deleted_rowid_high', 0);

DROP TRIGGER requests_never_deleted;
CREATE TRIGGER requests_deleted_only_by_removal BEFORE DELETE ON requests
WHEN (SELECT value FROM store_meta WHERE key = 'removing') IS NOT 1
BEGIN SELECT RAISE(ABORT, 'help requests leave the desk only through the store''s removal'); END;

CREATE TRIGGER requests_log_removal AFTER DELETE ON requests
BEGIN
    INSERT INTO request_changes (request_rowid) VALUES (old.rowid);
    UPDATE store_meta SET value = max(value, old.rowid) WHERE key = 'deleted_rowid_high';
END;

CREATE TRIGGER requests_log_reused_rowid AFTER INSERT ON requests
WHEN new.rowid <= (SELECT value FROM store_meta WHERE key = 'deleted_rowid_high')
BEGIN INSERT INTO request_changes (request_rowid) VALUES (new.rowid); END;

DROP TRIGGER case_events_append_only_delete;
CREATE TRIGGER case_events_append_only_delete BEFORE DELETE ON case_events
WHEN (SELECT value FROM store_meta WHERE key = 'removing') IS NOT 1
BEGIN SELECT RAISE(ABORT, 'the case-event log is append-only'); END;
