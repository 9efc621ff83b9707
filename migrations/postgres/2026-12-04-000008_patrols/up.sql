-- Patrols (巡查): an inspector walks a grid, the phone records a GPS track, the sites
-- visited and the problems reported on the way. Keep this file and its twin for the
-- other backend in step.

CREATE TABLE patrols (
    id             TEXT PRIMARY KEY NOT NULL,
    grid_id        TEXT NOT NULL REFERENCES units (id),
    inspector_id   TEXT NOT NULL REFERENCES users (id),
    campaign_id    TEXT REFERENCES campaigns (id),
    note           TEXT NOT NULL,
    status         TEXT NOT NULL,
    started_at     TIMESTAMP NOT NULL,
    ended_at       TIMESTAMP,
    -- Kept with every track batch: the length of the track in time order, and its points.
    distance_m     DOUBLE PRECISION NOT NULL,
    point_count    INTEGER NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        INTEGER NOT NULL
);
CREATE INDEX patrols_grid_id ON patrols (grid_id, started_at);
CREATE INDEX patrols_inspector_id ON patrols (inspector_id, status);

-- One point per moment: a retried batch sends the same moments again, and they merge.
CREATE TABLE patrol_points (
    patrol_id   TEXT NOT NULL REFERENCES patrols (id),
    t           TIMESTAMP NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    lon         DOUBLE PRECISION NOT NULL,
    accuracy_m  DOUBLE PRECISION,
    PRIMARY KEY (patrol_id, t)
);

CREATE TABLE patrol_visits (
    id              TEXT PRIMARY KEY NOT NULL,
    patrol_id       TEXT NOT NULL REFERENCES patrols (id),
    site_id         TEXT NOT NULL REFERENCES sites (id),
    at              TIMESTAMP NOT NULL,
    note            TEXT NOT NULL,
    -- JSON array of the photos' ids.
    attachment_ids  TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX patrol_visits_patrol_id ON patrol_visits (patrol_id, at);

-- The reports made on a patrol.
CREATE TABLE patrol_items (
    patrol_id         TEXT NOT NULL REFERENCES patrols (id),
    rectification_id  TEXT NOT NULL REFERENCES rectifications (id),
    PRIMARY KEY (patrol_id, rectification_id)
);
CREATE INDEX patrol_items_rectification_id ON patrol_items (rectification_id);
