-- Checklists (检查表) and the inspections scored against them. A checklist's items live in
-- its versions: an edit adds a version, and an inspection keeps the one it used. Keep this
-- file and its twin for the other backend in step.

CREATE TABLE checklists (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    managed_by      TEXT NOT NULL REFERENCES units (id),
    latest_version  INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL
);

CREATE TABLE checklist_versions (
    checklist_id  TEXT NOT NULL REFERENCES checklists (id),
    number        INTEGER NOT NULL,
    name          TEXT NOT NULL,
    -- JSON: [{key, label, type, points, required, pass, choices, category_id}].
    items         TEXT NOT NULL,
    created_by    TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (checklist_id, number)
);

CREATE TABLE inspections (
    id                 TEXT PRIMARY KEY NOT NULL,
    checklist_id       TEXT NOT NULL REFERENCES checklists (id),
    checklist_version  INTEGER NOT NULL,
    site_id            TEXT NOT NULL REFERENCES sites (id),
    kind               TEXT NOT NULL,
    -- JSON objects and arrays as sent and as scored.
    answers            TEXT NOT NULL,
    attachment_ids     TEXT NOT NULL,
    score              INTEGER NOT NULL,
    max_score          INTEGER NOT NULL,
    percent            DOUBLE NOT NULL,
    failed_items       TEXT NOT NULL,
    patrol_id          TEXT REFERENCES patrols (id),
    campaign_id        TEXT REFERENCES campaigns (id),
    inspected_by       TEXT NOT NULL REFERENCES users (id),
    created_at         TIMESTAMP NOT NULL,
    version            INTEGER NOT NULL
);
CREATE INDEX inspections_site_id ON inspections (site_id, created_at);

-- The rectification item each failed item raised.
CREATE TABLE inspection_items (
    inspection_id     TEXT NOT NULL REFERENCES inspections (id),
    item_key          TEXT NOT NULL,
    rectification_id  TEXT NOT NULL REFERENCES rectifications (id),
    PRIMARY KEY (inspection_id, item_key)
);
CREATE INDEX inspection_items_rectification_id ON inspection_items (rectification_id);
