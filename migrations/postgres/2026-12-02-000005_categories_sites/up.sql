-- Rectification (整改), part one: the categories problems are filed under, with their
-- routing and deadlines, and the sites (点位) inspectors check. Keep this file and its
-- twin for the other backend in step.

CREATE TABLE categories (
    id                TEXT PRIMARY KEY NOT NULL,
    code              TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    default_severity  TEXT NOT NULL,
    deadline_hours    INTEGER NOT NULL,
    -- Routing: the kind of unit that fixes it (found from the item's grid upwards), or
    -- one named unit (a department).
    route_kind        TEXT NOT NULL,
    route_unit_id     TEXT REFERENCES units (id),
    -- The extra fields a report carries, as JSON: [{code, label, type, required, choices}].
    attributes        TEXT NOT NULL,
    active            BOOLEAN NOT NULL,
    -- The unit whose office manages the category (admins manage every one).
    managed_by        TEXT NOT NULL REFERENCES units (id),
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           INTEGER NOT NULL
);
-- Codes are unique whatever their case.
CREATE UNIQUE INDEX categories_code ON categories (lower(code));
CREATE INDEX categories_route_unit_id ON categories (route_unit_id);

CREATE TABLE sites (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    lon         DOUBLE PRECISION NOT NULL,
    grid_id     TEXT NOT NULL REFERENCES units (id),
    unit_id     TEXT NOT NULL REFERENCES units (id),
    address     TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL
);
CREATE INDEX sites_grid_id ON sites (grid_id);
CREATE INDEX sites_unit_id ON sites (unit_id);
CREATE INDEX sites_lon_lat ON sites (lon, lat);
