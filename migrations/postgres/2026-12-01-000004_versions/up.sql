-- Units, users and pairings carry a version too, so that their single-record GETs send an
-- ETag and their updates honour If-Match, as campaign work's records do.
ALTER TABLE units ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE pairings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
