-- One way to write, one way to see (issue 16).
--
-- 1. Work with a deadline has one storage shape: a rectification item's pending extension
--    moves from a JSON text column into the same four columns a task has.
ALTER TABLE rectifications
    ADD COLUMN extension_due_at TIMESTAMP,
    ADD COLUMN extension_note TEXT,
    ADD COLUMN extension_requested_by TEXT REFERENCES users (id),
    ADD COLUMN extension_requested_at TIMESTAMP;
UPDATE rectifications SET
    extension_due_at = ((extension::json ->> 'due_at')::timestamptz AT TIME ZONE 'UTC'),
    extension_note = extension::json ->> 'note',
    extension_requested_by = extension::json ->> 'requested_by',
    extension_requested_at = ((extension::json ->> 'requested_at')::timestamptz AT TIME ZONE 'UTC')
WHERE extension IS NOT NULL;
ALTER TABLE rectifications DROP COLUMN extension;

-- 2. Notifications are about a task or a rectification item.
ALTER TABLE notifications ADD COLUMN rectification_id TEXT REFERENCES rectifications (id);
CREATE INDEX notifications_rectification_id ON notifications (rectification_id);

-- 3. A patrol visit's photos as rows (they were a JSON array), so that whoever may read
--    the visit may read them (attachments are authorised through the records they belong
--    to, by these link tables).
CREATE TABLE patrol_visit_attachments (
    visit_id TEXT NOT NULL REFERENCES patrol_visits (id),
    attachment_id TEXT NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (visit_id, attachment_id)
);
CREATE INDEX patrol_visit_attachments_attachment_id ON patrol_visit_attachments (attachment_id);
INSERT INTO patrol_visit_attachments (visit_id, attachment_id)
    SELECT patrol_visits.id, photo FROM patrol_visits,
        json_array_elements_text(patrol_visits.attachment_ids::json) AS photo
    ON CONFLICT DO NOTHING;

-- 4. Reminders (催办) sent: one per record, kind and deadline. The deadline sweep finds
--    records by state (due soon, or overdue) and claims each reminder here before it
--    notifies, so it is sent once whatever the number of sweeps or replicas, and a
--    deadline moved by an extension is reminded again.
CREATE TABLE reminders (
    record TEXT NOT NULL,
    kind TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (record, kind, due_at)
);
-- What the sweep of migration 000003 sent for tasks' current deadlines counts as sent.
INSERT INTO reminders (record, kind, due_at, sent_at)
    SELECT 'task:' || tasks.id, split_part(notifications.dedup_key, ':', 1), tasks.due_at,
           MIN(notifications.created_at)
    FROM notifications JOIN tasks ON tasks.id = notifications.task_id
    WHERE notifications.dedup_key IN (
        'due_soon:' || tasks.id || ':' || floor(extract(epoch FROM tasks.due_at))::bigint,
        'overdue:' || tasks.id || ':' || floor(extract(epoch FROM tasks.due_at))::bigint)
    GROUP BY tasks.id, notifications.dedup_key, tasks.due_at
    ON CONFLICT DO NOTHING;
