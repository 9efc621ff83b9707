-- Foundation schema (SQLite). Ids are UUIDv7 text so that offline clients can mint them;
-- timestamps are UTC. Keep this file and its PostgreSQL twin in step: one diesel schema
-- (src/db/schema.rs) serves both.

CREATE TABLE units (
    id          TEXT PRIMARY KEY NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   TEXT REFERENCES units (id),
    -- Materialised path "/<root id>/…/<own id>/": subtree = prefix match, no recursive SQL.
    path        TEXT NOT NULL UNIQUE,
    boundary    TEXT,
    min_lon     DOUBLE,
    min_lat     DOUBLE,
    max_lon     DOUBLE,
    max_lat     DOUBLE,
    leader_id   TEXT REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX units_parent_id ON units (parent_id);
CREATE INDEX units_kind ON units (kind);
CREATE INDEX units_leader_id ON units (leader_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units (id),
    active        BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX users_unit_id ON users (unit_id);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);

-- Failed-login counters live in the database, not in memory, so that every replica
-- behind a load balancer sees the same count.
CREATE TABLE login_throttles (
    key               TEXT PRIMARY KEY NOT NULL,
    failures          INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until      TIMESTAMP
);

CREATE TABLE pairings (
    id            TEXT PRIMARY KEY NOT NULL,
    department_id TEXT NOT NULL REFERENCES units (id),
    partner_id    TEXT NOT NULL REFERENCES units (id),
    note          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (department_id, partner_id)
);
CREATE INDEX pairings_partner_id ON pairings (partner_id);
