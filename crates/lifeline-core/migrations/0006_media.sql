-- Schema 6: photos, voice messages and video clips on a thread. A message names its file by
-- content address; the bytes are fetched from the hub only when an officer opens the thread
-- and kept in `media_cache`, inside this (encrypted) store, up to a quota: the least
-- recently used go first. `thumb` is the desk's own re-encoding of a photo (the web view
-- never decodes a citizen's image bytes); `gps_*` is the position the photo's EXIF gave, a
-- hint the officer may show on the map.
ALTER TABLE messages ADD COLUMN media_sha TEXT;
ALTER TABLE messages ADD COLUMN media_type TEXT;
ALTER TABLE messages ADD COLUMN media_size INTEGER;
ALTER TABLE messages ADD COLUMN media_name TEXT;
CREATE INDEX messages_media ON messages (media_sha) WHERE media_sha IS NOT NULL;

-- The blobs come last: SQLite reads a row's columns in order, so a column after a blob is
-- reached only through the blob's overflow pages (the quota's sums and the LRU order would
-- read, and decrypt, every cached file).
CREATE TABLE media_cache (
    sha256      TEXT PRIMARY KEY,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    used_at     INTEGER NOT NULL,
    gps_lat     REAL,
    gps_lon     REAL,
    thumb_type  TEXT,
    thumb       BLOB,
    bytes       BLOB NOT NULL
);
CREATE INDEX media_cache_lru ON media_cache (used_at);
