-- The offline sync feed (GET /api/v1/sync): what changed, in an order no reader can skip
-- past. See docs/sync.md.
--
-- sync_log holds one row per record (kind, id) at the position of its last change; every
-- change moves the row to a new position (a delete and insert takes a fresh AUTOINCREMENT
-- seq). SQLite has one writer at a time, so positions are taken in commit order and a
-- reader that has seen position n has seen every change before it. `tx` is always 0 here
-- (PostgreSQL stores the transaction id in it).
--
-- sync_anchors holds the units whose scope each record belongs (or belonged) to: who may
-- be told about a change. A unit the record left keeps its row with the position at which
-- it left, so those readers learn of the departure (a tombstone) once.
--
-- The triggers below write both; no code path can change a record without them.
CREATE TABLE sync_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    tx BIGINT NOT NULL DEFAULT 0,
    UNIQUE (kind, entity_id)
);

CREATE TABLE sync_anchors (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    anchor TEXT NOT NULL,
    left_tx BIGINT,
    left_seq BIGINT,
    PRIMARY KEY (kind, entity_id, anchor)
);

-- Bumped when a unit moves in the tree: what a caller's scope covers then changes under
-- records that did not change, so every cursor starts over.
CREATE TABLE sync_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO sync_epoch (id, epoch) VALUES (1, 0);

CREATE TRIGGER units_sync_insert AFTER INSERT ON units BEGIN
    DELETE FROM sync_log WHERE kind = 'unit' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('unit', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'unit', NEW.id, NEW.id WHERE NEW.id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.parent_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'unit', NEW.id, NEW.parent_id WHERE NEW.parent_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.parent_id);
END;

CREATE TRIGGER units_sync_update AFTER UPDATE ON units BEGIN
    DELETE FROM sync_log WHERE kind = 'unit' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('unit', NEW.id);
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'unit' AND entity_id = NEW.id)
        WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = OLD.id
          AND OLD.id NOT IN (COALESCE(NEW.id, ''), COALESCE(NEW.parent_id, ''));
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'unit' AND entity_id = NEW.id)
        WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = OLD.parent_id
          AND OLD.parent_id NOT IN (COALESCE(NEW.id, ''), COALESCE(NEW.parent_id, ''));
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'unit', NEW.id, NEW.id WHERE NEW.id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.parent_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'unit', NEW.id, NEW.parent_id WHERE NEW.parent_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'unit' AND entity_id = NEW.id AND anchor = NEW.parent_id);
END;

CREATE TRIGGER units_sync_delete AFTER DELETE ON units BEGIN
    DELETE FROM sync_log WHERE kind = 'unit' AND entity_id = OLD.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('unit', OLD.id);
END;

CREATE TRIGGER categories_sync_insert AFTER INSERT ON categories BEGIN
    DELETE FROM sync_log WHERE kind = 'category' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('category', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'category' AND entity_id = NEW.id AND anchor = '*';
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'category', NEW.id, '*' WHERE '*' IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'category' AND entity_id = NEW.id AND anchor = '*');
END;

CREATE TRIGGER categories_sync_update AFTER UPDATE ON categories BEGIN
    DELETE FROM sync_log WHERE kind = 'category' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('category', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'category' AND entity_id = NEW.id AND anchor = '*';
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'category', NEW.id, '*' WHERE '*' IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'category' AND entity_id = NEW.id AND anchor = '*');
END;

CREATE TRIGGER categories_sync_delete AFTER DELETE ON categories BEGIN
    DELETE FROM sync_log WHERE kind = 'category' AND entity_id = OLD.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('category', OLD.id);
END;

CREATE TRIGGER checklists_sync_insert AFTER INSERT ON checklists BEGIN
    DELETE FROM sync_log WHERE kind = 'checklist' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('checklist', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'checklist' AND entity_id = NEW.id AND anchor = '*';
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'checklist', NEW.id, '*' WHERE '*' IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'checklist' AND entity_id = NEW.id AND anchor = '*');
END;

CREATE TRIGGER checklists_sync_update AFTER UPDATE ON checklists BEGIN
    DELETE FROM sync_log WHERE kind = 'checklist' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('checklist', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'checklist' AND entity_id = NEW.id AND anchor = '*';
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'checklist', NEW.id, '*' WHERE '*' IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'checklist' AND entity_id = NEW.id AND anchor = '*');
END;

CREATE TRIGGER checklists_sync_delete AFTER DELETE ON checklists BEGIN
    DELETE FROM sync_log WHERE kind = 'checklist' AND entity_id = OLD.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('checklist', OLD.id);
END;

CREATE TRIGGER sites_sync_insert AFTER INSERT ON sites BEGIN
    DELETE FROM sync_log WHERE kind = 'site' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('site', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.grid_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'site', NEW.id, NEW.grid_id WHERE NEW.grid_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.grid_id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.unit_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'site', NEW.id, NEW.unit_id WHERE NEW.unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.unit_id);
END;

CREATE TRIGGER sites_sync_update AFTER UPDATE ON sites BEGIN
    DELETE FROM sync_log WHERE kind = 'site' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('site', NEW.id);
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'site' AND entity_id = NEW.id)
        WHERE kind = 'site' AND entity_id = NEW.id AND anchor = OLD.grid_id
          AND OLD.grid_id NOT IN (COALESCE(NEW.grid_id, ''), COALESCE(NEW.unit_id, ''));
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'site' AND entity_id = NEW.id)
        WHERE kind = 'site' AND entity_id = NEW.id AND anchor = OLD.unit_id
          AND OLD.unit_id NOT IN (COALESCE(NEW.grid_id, ''), COALESCE(NEW.unit_id, ''));
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.grid_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'site', NEW.id, NEW.grid_id WHERE NEW.grid_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.grid_id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.unit_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'site', NEW.id, NEW.unit_id WHERE NEW.unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'site' AND entity_id = NEW.id AND anchor = NEW.unit_id);
END;

CREATE TRIGGER sites_sync_delete AFTER DELETE ON sites BEGIN
    DELETE FROM sync_log WHERE kind = 'site' AND entity_id = OLD.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('site', OLD.id);
END;

CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks BEGIN
    DELETE FROM sync_log WHERE kind = 'task' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('task', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'task' AND entity_id = NEW.id AND anchor = NEW.unit_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'task', NEW.id, NEW.unit_id WHERE NEW.unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'task' AND entity_id = NEW.id AND anchor = NEW.unit_id);
END;

CREATE TRIGGER tasks_sync_update AFTER UPDATE ON tasks BEGIN
    DELETE FROM sync_log WHERE kind = 'task' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('task', NEW.id);
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'task' AND entity_id = NEW.id)
        WHERE kind = 'task' AND entity_id = NEW.id AND anchor = OLD.unit_id
          AND OLD.unit_id NOT IN (COALESCE(NEW.unit_id, ''));
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'task' AND entity_id = NEW.id AND anchor = NEW.unit_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'task', NEW.id, NEW.unit_id WHERE NEW.unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'task' AND entity_id = NEW.id AND anchor = NEW.unit_id);
END;

CREATE TRIGGER tasks_sync_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM sync_log WHERE kind = 'task' AND entity_id = OLD.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('task', OLD.id);
END;

CREATE TRIGGER rectifications_sync_insert AFTER INSERT ON rectifications BEGIN
    DELETE FROM sync_log WHERE kind = 'item' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('item', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.grid_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'item', NEW.id, NEW.grid_id WHERE NEW.grid_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.grid_id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.unit_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'item', NEW.id, NEW.unit_id WHERE NEW.unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.unit_id);
END;

CREATE TRIGGER rectifications_sync_update AFTER UPDATE ON rectifications BEGIN
    DELETE FROM sync_log WHERE kind = 'item' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('item', NEW.id);
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'item' AND entity_id = NEW.id)
        WHERE kind = 'item' AND entity_id = NEW.id AND anchor = OLD.grid_id
          AND OLD.grid_id NOT IN (COALESCE(NEW.grid_id, ''), COALESCE(NEW.unit_id, ''));
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'item' AND entity_id = NEW.id)
        WHERE kind = 'item' AND entity_id = NEW.id AND anchor = OLD.unit_id
          AND OLD.unit_id NOT IN (COALESCE(NEW.grid_id, ''), COALESCE(NEW.unit_id, ''));
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.grid_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'item', NEW.id, NEW.grid_id WHERE NEW.grid_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.grid_id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.unit_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'item', NEW.id, NEW.unit_id WHERE NEW.unit_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'item' AND entity_id = NEW.id AND anchor = NEW.unit_id);
END;

CREATE TRIGGER rectifications_sync_delete AFTER DELETE ON rectifications BEGIN
    DELETE FROM sync_log WHERE kind = 'item' AND entity_id = OLD.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('item', OLD.id);
END;

CREATE TRIGGER patrols_sync_insert AFTER INSERT ON patrols BEGIN
    DELETE FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('patrol', NEW.id);
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'patrol' AND entity_id = NEW.id AND anchor = NEW.grid_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'patrol', NEW.id, NEW.grid_id WHERE NEW.grid_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'patrol' AND entity_id = NEW.id AND anchor = NEW.grid_id);
END;

CREATE TRIGGER patrols_sync_update AFTER UPDATE ON patrols BEGIN
    DELETE FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('patrol', NEW.id);
    UPDATE sync_anchors SET left_tx = 0, left_seq = (
            SELECT seq FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.id)
        WHERE kind = 'patrol' AND entity_id = NEW.id AND anchor = OLD.grid_id
          AND OLD.grid_id NOT IN (COALESCE(NEW.grid_id, ''));
    UPDATE sync_anchors SET left_tx = NULL, left_seq = NULL
        WHERE kind = 'patrol' AND entity_id = NEW.id AND anchor = NEW.grid_id;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT 'patrol', NEW.id, NEW.grid_id WHERE NEW.grid_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_anchors
            WHERE kind = 'patrol' AND entity_id = NEW.id AND anchor = NEW.grid_id);
END;

CREATE TRIGGER patrols_sync_delete AFTER DELETE ON patrols BEGIN
    DELETE FROM sync_log WHERE kind = 'patrol' AND entity_id = OLD.id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('patrol', OLD.id);
END;

CREATE TRIGGER units_sync_moved AFTER UPDATE OF path ON units
WHEN OLD.path <> NEW.path BEGIN
    UPDATE sync_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

-- A patrol's visits are part of the patrol the feed sends.
CREATE TRIGGER patrol_visits_sync AFTER INSERT ON patrol_visits BEGIN
    DELETE FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.patrol_id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('patrol', NEW.patrol_id);
END;

-- A patrol's items are part of the patrol the feed sends.
CREATE TRIGGER patrol_items_sync AFTER INSERT ON patrol_items BEGIN
    DELETE FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.patrol_id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('patrol', NEW.patrol_id);
END;

-- Existing records start in the feed, in creation order.

INSERT INTO sync_log (kind, entity_id) SELECT 'unit', id FROM units ORDER BY created_at, id;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'unit', id, id FROM units WHERE id IS NOT NULL;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'unit', id, parent_id FROM units WHERE parent_id IS NOT NULL;

INSERT INTO sync_log (kind, entity_id) SELECT 'category', id FROM categories ORDER BY created_at, id;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'category', id, '*' FROM categories WHERE '*' IS NOT NULL;

INSERT INTO sync_log (kind, entity_id) SELECT 'checklist', id FROM checklists ORDER BY created_at, id;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'checklist', id, '*' FROM checklists WHERE '*' IS NOT NULL;

INSERT INTO sync_log (kind, entity_id) SELECT 'site', id FROM sites ORDER BY created_at, id;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'site', id, grid_id FROM sites WHERE grid_id IS NOT NULL;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'site', id, unit_id FROM sites WHERE unit_id IS NOT NULL;

INSERT INTO sync_log (kind, entity_id) SELECT 'task', id FROM tasks ORDER BY created_at, id;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'task', id, unit_id FROM tasks WHERE unit_id IS NOT NULL;

INSERT INTO sync_log (kind, entity_id) SELECT 'item', id FROM rectifications ORDER BY created_at, id;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'item', id, grid_id FROM rectifications WHERE grid_id IS NOT NULL;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'item', id, unit_id FROM rectifications WHERE unit_id IS NOT NULL;

INSERT INTO sync_log (kind, entity_id) SELECT 'patrol', id FROM patrols ORDER BY created_at, id;

INSERT OR IGNORE INTO sync_anchors (kind, entity_id, anchor) SELECT 'patrol', id, grid_id FROM patrols WHERE grid_id IS NOT NULL;

