-- Campaign work (SQLite): campaigns, meetings, directives split into tasks, volunteer
-- activities, the append-only event store, notifications, idempotency keys and job claims.
-- Keep this file and its PostgreSQL twin in step. Every record that can be updated carries
-- a `version` (its ETag): updates check and bump it.

CREATE TABLE campaigns (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    starts_on     DATE NOT NULL,
    ends_on       DATE NOT NULL,
    status        TEXT NOT NULL,
    lead_unit_id  TEXT NOT NULL REFERENCES units (id),
    -- The assessment scheme (scoring, a later issue); no table to refer to yet.
    scheme_id     TEXT,
    created_by    TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       INTEGER NOT NULL
);
CREATE INDEX campaigns_lead_unit_id ON campaigns (lead_unit_id);
CREATE INDEX campaigns_starts_on ON campaigns (starts_on);

CREATE TABLE meetings (
    id            TEXT PRIMARY KEY NOT NULL,
    campaign_id   TEXT NOT NULL REFERENCES campaigns (id),
    -- The unit that convened it (the recording user's unit).
    unit_id       TEXT NOT NULL REFERENCES units (id),
    title         TEXT NOT NULL,
    held_at       TIMESTAMP NOT NULL,
    place         TEXT NOT NULL,
    chaired_by    TEXT NOT NULL,
    summary       TEXT NOT NULL,
    created_by    TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       INTEGER NOT NULL
);
CREATE INDEX meetings_campaign_id ON meetings (campaign_id);
CREATE INDEX meetings_unit_id ON meetings (unit_id);

CREATE TABLE meeting_units (
    meeting_id    TEXT NOT NULL REFERENCES meetings (id),
    unit_id       TEXT NOT NULL REFERENCES units (id),
    PRIMARY KEY (meeting_id, unit_id)
);
CREATE INDEX meeting_units_unit_id ON meeting_units (unit_id);

CREATE TABLE directives (
    id              TEXT PRIMARY KEY NOT NULL,
    campaign_id     TEXT NOT NULL REFERENCES campaigns (id),
    meeting_id      TEXT REFERENCES meetings (id),
    -- The issuer's unit: its office is "the issuer's side" of every task split from it.
    unit_id         TEXT NOT NULL REFERENCES units (id),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    issued_by       TEXT NOT NULL REFERENCES users (id),
    priority        TEXT NOT NULL,
    default_due_at  TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL
);
CREATE INDEX directives_campaign_id ON directives (campaign_id);
CREATE INDEX directives_meeting_id ON directives (meeting_id);
CREATE INDEX directives_unit_id ON directives (unit_id);

CREATE TABLE tasks (
    id                      TEXT PRIMARY KEY NOT NULL,
    directive_id            TEXT NOT NULL REFERENCES directives (id),
    campaign_id             TEXT NOT NULL REFERENCES campaigns (id),
    unit_id                 TEXT NOT NULL REFERENCES units (id),
    assignee_id             TEXT REFERENCES users (id),
    title                   TEXT NOT NULL,
    -- Copied from the directive, so that lists sort by it without a join.
    priority                TEXT NOT NULL,
    due_at                  TIMESTAMP NOT NULL,
    -- What the task is assessed on: an approved extension moves due_at, never this.
    original_due_at         TIMESTAMP NOT NULL,
    status                  TEXT NOT NULL,
    progress                INTEGER NOT NULL,
    rework_count            INTEGER NOT NULL,
    weight                  INTEGER NOT NULL,
    -- A pending extension request, or all NULL.
    extension_due_at        TIMESTAMP,
    extension_note          TEXT,
    extension_requested_by  TEXT REFERENCES users (id),
    extension_requested_at  TIMESTAMP,
    started_at              TIMESTAMP,
    submitted_at            TIMESTAMP,
    submitted_by            TEXT REFERENCES users (id),
    accepted_at             TIMESTAMP,
    cancelled_at            TIMESTAMP,
    created_by              TEXT NOT NULL REFERENCES users (id),
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    version                 INTEGER NOT NULL
);
CREATE INDEX tasks_directive_id ON tasks (directive_id);
CREATE INDEX tasks_campaign_id ON tasks (campaign_id);
CREATE INDEX tasks_unit_id ON tasks (unit_id);
CREATE INDEX tasks_assignee_id ON tasks (assignee_id);
CREATE INDEX tasks_status_due_at ON tasks (status, due_at);

CREATE TABLE activities (
    id               TEXT PRIMARY KEY NOT NULL,
    campaign_id      TEXT NOT NULL REFERENCES campaigns (id),
    unit_id          TEXT NOT NULL REFERENCES units (id),
    title            TEXT NOT NULL,
    date             DATE NOT NULL,
    place            TEXT NOT NULL,
    participants     INTEGER NOT NULL,
    volunteer_hours  DOUBLE NOT NULL,
    beneficiaries    INTEGER NOT NULL,
    description      TEXT NOT NULL,
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          INTEGER NOT NULL
);
CREATE INDEX activities_campaign_id ON activities (campaign_id);
CREATE INDEX activities_unit_id ON activities (unit_id);

-- Every change of every entity, written in the change's own transaction. Never updated or
-- deleted: the triggers refuse it.
CREATE TABLE events (
    id           TEXT PRIMARY KEY NOT NULL,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    actor_id     TEXT REFERENCES users (id),
    at           TIMESTAMP NOT NULL,
    action       TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    note         TEXT,
    -- JSON object: field -> [before, after] (creates: field -> value).
    changes      TEXT NOT NULL
);
CREATE INDEX events_entity ON events (entity, entity_id, at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    task_id     TEXT REFERENCES tasks (id),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    -- Set by the deadline sweep: one "due soon" / "overdue" per task, deadline and user,
    -- however many replicas sweep at once.
    dedup_key   TEXT,
    created_at  TIMESTAMP NOT NULL,
    read_at     TIMESTAMP,
    UNIQUE (user_id, dedup_key)
);
CREATE INDEX notifications_user_id ON notifications (user_id, read_at, created_at);

-- Idempotency-Key: the first successful answer to a create or transition, replayed for
-- a retry with the same key and body.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL REFERENCES users (id),
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    location     TEXT,
    etag         TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Periodic jobs: a replica runs one only after claiming its row, so two replicas never
-- run the same job at the same time.
CREATE TABLE job_claims (
    name           TEXT PRIMARY KEY NOT NULL,
    claimed_by     TEXT NOT NULL,
    claimed_until  TIMESTAMP NOT NULL,
    last_run_at    TIMESTAMP
);
