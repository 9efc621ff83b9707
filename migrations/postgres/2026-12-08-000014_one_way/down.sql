DROP TABLE reminders;
DROP TABLE patrol_visit_attachments;
DROP INDEX notifications_rectification_id;
ALTER TABLE notifications DROP COLUMN rectification_id;
ALTER TABLE rectifications ADD COLUMN extension TEXT;
UPDATE rectifications SET extension = json_build_object(
        'due_at', to_char(extension_due_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'note', extension_note,
        'requested_by', extension_requested_by,
        'requested_at', to_char(extension_requested_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
WHERE extension_due_at IS NOT NULL;
ALTER TABLE rectifications
    DROP COLUMN extension_due_at,
    DROP COLUMN extension_note,
    DROP COLUMN extension_requested_by,
    DROP COLUMN extension_requested_at;
