-- Rectification items (整改): a problem reported at a point, routed to the unit that
-- fixes it, fixed with evidence and verified. Keep this file and its twin for the other
-- backend in step.

CREATE TABLE rectifications (
    id               TEXT PRIMARY KEY NOT NULL,
    -- ZG-YYYY-NNNNNN: unique, never reused (rectification_numbers hands them out).
    number           TEXT NOT NULL,
    source           TEXT NOT NULL,
    category_id      TEXT NOT NULL REFERENCES categories (id),
    description      TEXT NOT NULL,
    -- WGS-84, whatever datum the phone sent.
    lat              DOUBLE NOT NULL,
    lon              DOUBLE NOT NULL,
    address          TEXT NOT NULL,
    grid_id          TEXT NOT NULL REFERENCES units (id),
    -- The responsible unit; NULL while the item waits in triage.
    unit_id          TEXT REFERENCES units (id),
    severity         TEXT NOT NULL,
    due_at           TIMESTAMP NOT NULL,
    original_due_at  TIMESTAMP NOT NULL,
    -- The category's extra fields, as a JSON object.
    attributes       TEXT NOT NULL,
    campaign_id      TEXT REFERENCES campaigns (id),
    site_id          TEXT REFERENCES sites (id),
    duplicate_of     TEXT REFERENCES rectifications (id),
    reported_by      TEXT NOT NULL REFERENCES users (id),
    status           TEXT NOT NULL,
    rework_count     INTEGER NOT NULL,
    -- A pending request for more time, as JSON {due_at, note, requested_by, requested_at}.
    extension        TEXT,
    assigned_at      TIMESTAMP,
    started_at       TIMESTAMP,
    submitted_at     TIMESTAMP,
    submitted_by     TEXT REFERENCES users (id),
    -- When it left the open statuses: accepted, cancelled or marked a duplicate.
    closed_at        TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          INTEGER NOT NULL
);
CREATE UNIQUE INDEX rectifications_number ON rectifications (number);
CREATE INDEX rectifications_unit_id ON rectifications (unit_id, status);
CREATE INDEX rectifications_grid_id ON rectifications (grid_id, status);
CREATE INDEX rectifications_category_id ON rectifications (category_id, status);
CREATE INDEX rectifications_created_at ON rectifications (created_at);
CREATE INDEX rectifications_lon_lat ON rectifications (lon, lat);
CREATE INDEX rectifications_campaign_id ON rectifications (campaign_id);

-- The photos and documents of an item: `report` (整改前, sent with the report) or
-- `evidence` (整改后, sent with a fix).
CREATE TABLE rectification_attachments (
    rectification_id  TEXT NOT NULL REFERENCES rectifications (id),
    attachment_id     TEXT NOT NULL REFERENCES attachments (id),
    stage             TEXT NOT NULL,
    added_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (rectification_id, attachment_id)
);
CREATE INDEX rectification_attachments_attachment_id ON rectification_attachments (attachment_id);

-- The last number given in each year: a number is taken in the creating transaction, so a
-- rolled-back report gives its number back and no two items share one.
CREATE TABLE rectification_numbers (
    year  INTEGER PRIMARY KEY NOT NULL,
    last  INTEGER NOT NULL
);
