-- Attachments: one row per upload; the file itself lives on disk under
-- ATTACHMENTS_DIR, named by its SHA-256 (a file sent twice is stored once). Keep this file
-- and its twin for the other backend in step.
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY NOT NULL,
    sha256        TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    -- The file name as sent, for showing only (never used on disk).
    file_name     TEXT NOT NULL,
    -- From the photo's EXIF, when it has them: the camera's local time, and WGS-84.
    taken_at      TIMESTAMP,
    lat           DOUBLE PRECISION,
    lon           DOUBLE PRECISION,
    uploaded_by   TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX attachments_uploaded_by ON attachments (uploaded_by);
