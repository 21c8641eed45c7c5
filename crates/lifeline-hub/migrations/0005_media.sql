-- The files of citizens' messages (photos, voice, video), stored once each under the SHA-256
-- of their bytes. A channel uploads a file, then names it in a message; a file no message
-- names is dropped a day after its upload, and a file goes with the last thread that names
-- it when a request is erased.
-- The bytes come last: a column after a blob is read through the blob's overflow pages.
CREATE TABLE media (
    sha256       TEXT PRIMARY KEY,
    media_type   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    bytes        BLOB NOT NULL
);
CREATE INDEX media_age ON media (created_at);

-- Who uploaded each file: a channel names in a message only a file it uploaded itself (the
-- same bytes from two channels are stored once, uploaded twice).
CREATE TABLE media_uploads (
    sha256   TEXT NOT NULL,
    channel  TEXT NOT NULL,
    PRIMARY KEY (sha256, channel)
);

ALTER TABLE messages ADD COLUMN media_sha TEXT;
CREATE INDEX messages_media ON messages (media_sha) WHERE media_sha IS NOT NULL;
