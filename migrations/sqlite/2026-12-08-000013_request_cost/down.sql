-- Back to migration 000011's change log.
DROP INDEX rectifications_status;
DROP INDEX units_grid_box;
DROP INDEX rectifications_duplicate_of;
DROP INDEX rectifications_category_place;
CREATE INDEX rectifications_category_id ON rectifications (category_id, status);
DROP TRIGGER units_sync_insert;
DROP TRIGGER units_sync_update;
DROP TRIGGER units_sync_placed;
DROP TRIGGER units_sync_delete;
DROP TRIGGER categories_sync_insert;
DROP TRIGGER categories_sync_update;
DROP TRIGGER categories_sync_delete;
DROP TRIGGER checklists_sync_insert;
DROP TRIGGER checklists_sync_update;
DROP TRIGGER checklists_sync_delete;
DROP TRIGGER sites_sync_insert;
DROP TRIGGER sites_sync_update;
DROP TRIGGER sites_sync_placed;
DROP TRIGGER sites_sync_delete;
DROP TRIGGER tasks_sync_insert;
DROP TRIGGER tasks_sync_update;
DROP TRIGGER tasks_sync_placed;
DROP TRIGGER tasks_sync_delete;
DROP TRIGGER rectifications_sync_insert;
DROP TRIGGER rectifications_sync_update;
DROP TRIGGER rectifications_sync_placed;
DROP TRIGGER rectifications_sync_delete;
DROP TRIGGER patrols_sync_insert;
DROP TRIGGER patrols_sync_update;
DROP TRIGGER patrols_sync_placed;
DROP TRIGGER patrols_sync_delete;
DROP TRIGGER patrol_visits_sync;
DROP TRIGGER patrol_items_sync;
CREATE TABLE sync_log_old (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    tx BIGINT NOT NULL DEFAULT 0,
    UNIQUE (kind, entity_id)
);
INSERT INTO sync_log_old (seq, kind, entity_id, tx) SELECT seq, kind, entity_id, tx FROM sync_log ORDER BY seq;
DROP TABLE sync_log;
ALTER TABLE sync_log_old RENAME TO sync_log;
CREATE TABLE sync_anchors_old (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    anchor TEXT NOT NULL,
    left_tx BIGINT,
    left_seq BIGINT,
    PRIMARY KEY (kind, entity_id, anchor)
);
INSERT INTO sync_anchors_old SELECT kind, entity_id, anchor, left_tx, left_seq FROM sync_anchors;
DROP TABLE sync_anchors;
ALTER TABLE sync_anchors_old RENAME TO sync_anchors;
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

CREATE TRIGGER patrol_visits_sync AFTER INSERT ON patrol_visits BEGIN
    DELETE FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.patrol_id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('patrol', NEW.patrol_id);
END;

-- A patrol's items are part of the patrol the feed sends.

CREATE TRIGGER patrol_items_sync AFTER INSERT ON patrol_items BEGIN
    DELETE FROM sync_log WHERE kind = 'patrol' AND entity_id = NEW.patrol_id;
    INSERT INTO sync_log (kind, entity_id) VALUES ('patrol', NEW.patrol_id);
END;
