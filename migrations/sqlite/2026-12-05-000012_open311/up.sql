-- Open311 GeoReport v2: the keys outside apps post reports with, and what those reports
-- carry besides the item (the citizen's contact details, never shown by a read, and the
-- media URL the app sent). Keep this file and its twin for the other backend in step.
CREATE TABLE open311_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    -- Who the key is for, e.g. 城市随手拍 (an app).
    name         TEXT NOT NULL,
    -- SHA-256 of the key, in hex: the key itself is shown once, when it is issued.
    key_hash     TEXT NOT NULL UNIQUE,
    -- The key's first characters, to recognise it in a list.
    key_prefix   TEXT NOT NULL,
    -- The account the key's reports are filed as: made with the key, never able to log in.
    reporter_id  TEXT NOT NULL REFERENCES users (id),
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);

CREATE TABLE open311_reports (
    rectification_id TEXT PRIMARY KEY NOT NULL REFERENCES rectifications (id),
    key_id           TEXT NOT NULL REFERENCES open311_keys (id),
    email            TEXT,
    device_id        TEXT,
    account_id       TEXT,
    first_name       TEXT,
    last_name        TEXT,
    phone            TEXT,
    media_url        TEXT,
    address_id       TEXT
);
CREATE INDEX open311_reports_key_id ON open311_reports (key_id);
