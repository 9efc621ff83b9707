DROP TABLE reminders;
DROP TABLE patrol_visit_attachments;
DROP INDEX notifications_rectification_id;
ALTER TABLE notifications DROP COLUMN rectification_id;
ALTER TABLE rectifications ADD COLUMN extension TEXT;
UPDATE rectifications SET extension = json_object(
        'due_at', replace(extension_due_at, ' ', 'T') || 'Z',
        'note', extension_note,
        'requested_by', extension_requested_by,
        'requested_at', replace(extension_requested_at, ' ', 'T') || 'Z')
WHERE extension_due_at IS NOT NULL;
ALTER TABLE rectifications DROP COLUMN extension_requested_at;
ALTER TABLE rectifications DROP COLUMN extension_requested_by;
ALTER TABLE rectifications DROP COLUMN extension_note;
ALTER TABLE rectifications DROP COLUMN extension_due_at;
