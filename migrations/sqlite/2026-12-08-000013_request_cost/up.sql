-- Request cost at real size (issue 15): a cheaper change log (docs/sync.md).
--
-- Migration 000011 moved a record's sync_log row by a DELETE and an INSERT with a fresh
-- AUTOINCREMENT seq (which also rewrites sqlite_sequence), and rewrote every anchor of the
-- record on every update. Now sync_log is keyed by its record (WITHOUT ROWID) and a change
-- is one upsert taking the next position (the largest seq + 1, read from the index on
-- (tx, seq): SQLite has one writer, so positions still follow commit order); an update
-- that moves no anchor touches only the log, and one that does (its own trigger, chosen by
-- WHEN) also records where the record left its old anchors. Exactly one trigger fires per
-- row and event. Existing positions are kept, so cursors already issued stay valid.
DROP TRIGGER units_sync_insert;
DROP TRIGGER units_sync_update;
DROP TRIGGER units_sync_delete;
DROP TRIGGER categories_sync_insert;
DROP TRIGGER categories_sync_update;
DROP TRIGGER categories_sync_delete;
DROP TRIGGER checklists_sync_insert;
DROP TRIGGER checklists_sync_update;
DROP TRIGGER checklists_sync_delete;
DROP TRIGGER sites_sync_insert;
DROP TRIGGER sites_sync_update;
DROP TRIGGER sites_sync_delete;
DROP TRIGGER tasks_sync_insert;
DROP TRIGGER tasks_sync_update;
DROP TRIGGER tasks_sync_delete;
DROP TRIGGER rectifications_sync_insert;
DROP TRIGGER rectifications_sync_update;
DROP TRIGGER rectifications_sync_delete;
DROP TRIGGER patrols_sync_insert;
DROP TRIGGER patrols_sync_update;
DROP TRIGGER patrols_sync_delete;
DROP TRIGGER patrol_visits_sync;
DROP TRIGGER patrol_items_sync;

CREATE TABLE sync_log_new (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    tx BIGINT NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    PRIMARY KEY (kind, entity_id)
) WITHOUT ROWID;
INSERT INTO sync_log_new (kind, entity_id, tx, seq) SELECT kind, entity_id, tx, seq FROM sync_log;
DROP TABLE sync_log;
ALTER TABLE sync_log_new RENAME TO sync_log;
CREATE UNIQUE INDEX sync_log_position ON sync_log (tx, seq);

CREATE TABLE sync_anchors_new (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    anchor TEXT NOT NULL,
    left_tx BIGINT,
    left_seq BIGINT,
    PRIMARY KEY (kind, entity_id, anchor)
) WITHOUT ROWID;
INSERT INTO sync_anchors_new SELECT kind, entity_id, anchor, left_tx, left_seq FROM sync_anchors;
DROP TABLE sync_anchors;
ALTER TABLE sync_anchors_new RENAME TO sync_anchors;

CREATE TRIGGER units_sync_insert AFTER INSERT ON units BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('unit', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'unit', NEW.id, a FROM (SELECT NEW.id AS a UNION SELECT NEW.parent_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER units_sync_update AFTER UPDATE ON units
WHEN OLD.id IS NEW.id AND OLD.parent_id IS NEW.parent_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('unit', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER units_sync_placed AFTER UPDATE ON units
WHEN OLD.id IS NOT NEW.id OR OLD.parent_id IS NOT NEW.parent_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('unit', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'unit' AND entity_id = NEW.id)
        WHERE kind = 'unit' AND entity_id = NEW.id AND left_seq IS NULL
          AND anchor IN (OLD.id, OLD.parent_id) AND anchor NOT IN (COALESCE(NEW.id, ''), COALESCE(NEW.parent_id, ''));
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'unit', NEW.id, a FROM (SELECT NEW.id AS a UNION SELECT NEW.parent_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER units_sync_delete AFTER DELETE ON units BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('unit', OLD.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER categories_sync_insert AFTER INSERT ON categories BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('category', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'category', NEW.id, a FROM (SELECT '*' AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER categories_sync_update AFTER UPDATE ON categories BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('category', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER categories_sync_delete AFTER DELETE ON categories BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('category', OLD.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER checklists_sync_insert AFTER INSERT ON checklists BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('checklist', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'checklist', NEW.id, a FROM (SELECT '*' AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER checklists_sync_update AFTER UPDATE ON checklists BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('checklist', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER checklists_sync_delete AFTER DELETE ON checklists BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('checklist', OLD.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER sites_sync_insert AFTER INSERT ON sites BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('site', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'site', NEW.id, a FROM (SELECT NEW.grid_id AS a UNION SELECT NEW.unit_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER sites_sync_update AFTER UPDATE ON sites
WHEN OLD.grid_id IS NEW.grid_id AND OLD.unit_id IS NEW.unit_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('site', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER sites_sync_placed AFTER UPDATE ON sites
WHEN OLD.grid_id IS NOT NEW.grid_id OR OLD.unit_id IS NOT NEW.unit_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('site', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'site' AND entity_id = NEW.id)
        WHERE kind = 'site' AND entity_id = NEW.id AND left_seq IS NULL
          AND anchor IN (OLD.grid_id, OLD.unit_id) AND anchor NOT IN (COALESCE(NEW.grid_id, ''), COALESCE(NEW.unit_id, ''));
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'site', NEW.id, a FROM (SELECT NEW.grid_id AS a UNION SELECT NEW.unit_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER sites_sync_delete AFTER DELETE ON sites BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('site', OLD.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('task', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'task', NEW.id, a FROM (SELECT NEW.unit_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER tasks_sync_update AFTER UPDATE ON tasks
WHEN OLD.unit_id IS NEW.unit_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('task', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER tasks_sync_placed AFTER UPDATE ON tasks
WHEN OLD.unit_id IS NOT NEW.unit_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('task', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'task' AND entity_id = NEW.id)
        WHERE kind = 'task' AND entity_id = NEW.id AND left_seq IS NULL
          AND anchor IN (OLD.unit_id) AND anchor NOT IN (COALESCE(NEW.unit_id, ''));
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'task', NEW.id, a FROM (SELECT NEW.unit_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER tasks_sync_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('task', OLD.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER rectifications_sync_insert AFTER INSERT ON rectifications BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('item', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'item', NEW.id, a FROM (SELECT NEW.grid_id AS a UNION SELECT NEW.unit_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER rectifications_sync_update AFTER UPDATE ON rectifications
WHEN OLD.grid_id IS NEW.grid_id AND OLD.unit_id IS NEW.unit_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('item', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER rectifications_sync_placed AFTER UPDATE ON rectifications
WHEN OLD.grid_id IS NOT NEW.grid_id OR OLD.unit_id IS NOT NEW.unit_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('item', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'item' AND entity_id = NEW.id)
        WHERE kind = 'item' AND entity_id = NEW.id AND left_seq IS NULL
          AND anchor IN (OLD.grid_id, OLD.unit_id) AND anchor NOT IN (COALESCE(NEW.grid_id, ''), COALESCE(NEW.unit_id, ''));
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'item', NEW.id, a FROM (SELECT NEW.grid_id AS a UNION SELECT NEW.unit_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER rectifications_sync_delete AFTER DELETE ON rectifications BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('item', OLD.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER patrols_sync_insert AFTER INSERT ON patrols BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('patrol', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'patrol', NEW.id, a FROM (SELECT NEW.grid_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER patrols_sync_update AFTER UPDATE ON patrols
WHEN OLD.grid_id IS NEW.grid_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('patrol', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER patrols_sync_placed AFTER UPDATE ON patrols
WHEN OLD.grid_id IS NOT NEW.grid_id BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('patrol', NEW.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.id)
        WHERE kind = 'patrol' AND entity_id = NEW.id AND left_seq IS NULL
          AND anchor IN (OLD.grid_id) AND anchor NOT IN (COALESCE(NEW.grid_id, ''));
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'patrol', NEW.id, a FROM (SELECT NEW.grid_id AS a) WHERE a IS NOT NULL
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE left_seq IS NOT NULL;
END;

CREATE TRIGGER patrols_sync_delete AFTER DELETE ON patrols BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('patrol', OLD.id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

-- A patrol's visits are part of the patrol the feed sends.
CREATE TRIGGER patrol_visits_sync AFTER INSERT ON patrol_visits BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('patrol', NEW.patrol_id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

-- A patrol's items are part of the patrol the feed sends.
CREATE TRIGGER patrol_items_sync AFTER INSERT ON patrol_items BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES ('patrol', NEW.patrol_id, 0, COALESCE((SELECT seq FROM sync_log WHERE tx = 0 ORDER BY seq DESC LIMIT 1), 0) + 1)
        ON CONFLICT (kind, entity_id) DO UPDATE SET seq = excluded.seq;
END;

-- 3. An item is the parent of the items that repeat it (duplicate_of): without an index on
--    the child column, checking the reference when an item is written reads every item.
CREATE INDEX rectifications_duplicate_of ON rectifications (duplicate_of);

-- 4. Nearby duplicates of a report are open items of its category within a few metres:
--    an index by category and place finds them among the category's items at that spot
--    (by category and status, a busy category's open items were read one by one).
DROP INDEX rectifications_category_id;
CREATE INDEX rectifications_category_place ON rectifications (category_id, lon, lat);

-- 5. The grid holding a point (every report without a named grid): its box's columns in
--    one index, so that the candidates are found among index entries and only the few
--    whose box holds the point are read (by kind alone, every grid's row was read).
CREATE INDEX units_grid_box ON units (kind, min_lon, max_lon, min_lat, max_lat);

-- 6. Items by status, newest first: a district office's "what is open" (its scope holds
--    nearly every item, so the units' indexes do not narrow it; the status does).
CREATE INDEX rectifications_status ON rectifications (status, created_at);
