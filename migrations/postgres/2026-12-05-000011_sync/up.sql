-- The offline sync feed (GET /api/v1/sync): what changed, in an order no reader can skip
-- past. See docs/sync.md.
--
-- sync_log holds one row per record (kind, id) at the position of its last change: the
-- id of the transaction that made it (`tx`, pg_current_xact_id) and a sequence number
-- (`seq`). Transactions commit in any order, so a reader returns only changes of
-- transactions older than every transaction still running (its snapshot's xmin): those
-- have all committed or rolled back, and any change still to come has a larger `tx`
-- than the reader's cursor. Positions order by (tx, seq).
--
-- sync_anchors holds the units whose scope each record belongs (or belonged) to: who may
-- be told about a change. A unit the record left keeps its row with the position at which
-- it left, so those readers learn of the departure (a tombstone) once.
--
-- The triggers below write both; no code path can change a record without them.
CREATE SEQUENCE sync_seq;

CREATE TABLE sync_log (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    tx BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (kind, entity_id)
);
CREATE INDEX sync_log_position ON sync_log (tx, seq);

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

-- sync_record(kind, anchor…): an anchor is a column of the row, or '*' (everyone).
CREATE FUNCTION sync_record() RETURNS trigger AS $$
DECLARE
    k TEXT := TG_ARGV[0];
    new_row JSONB;
    old_row JSONB;
    eid TEXT;
    t BIGINT := pg_current_xact_id()::text::bigint;
    s BIGINT := nextval('sync_seq');
    new_anchors TEXT[] := '{}';
    old_anchors TEXT[] := '{}';
    i INTEGER;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW);
        eid := new_row ->> 'id';
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD);
        eid := COALESCE(eid, old_row ->> 'id');
    END IF;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        IF TG_ARGV[i] = '*' THEN
            new_anchors := new_anchors || '*'::text;
        ELSE
            IF new_row IS NOT NULL AND new_row ->> TG_ARGV[i] IS NOT NULL THEN
                new_anchors := new_anchors || (new_row ->> TG_ARGV[i]);
            END IF;
            IF old_row IS NOT NULL AND old_row ->> TG_ARGV[i] IS NOT NULL THEN
                old_anchors := old_anchors || (old_row ->> TG_ARGV[i]);
            END IF;
        END IF;
    END LOOP;
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES (k, eid, t, s)
        ON CONFLICT (kind, entity_id) DO UPDATE SET tx = EXCLUDED.tx, seq = EXCLUDED.seq;
    IF TG_OP <> 'DELETE' THEN
        UPDATE sync_anchors SET left_tx = t, left_seq = s
            WHERE kind = k AND entity_id = eid
              AND anchor = ANY (old_anchors) AND NOT (anchor = ANY (new_anchors));
        INSERT INTO sync_anchors (kind, entity_id, anchor)
            SELECT DISTINCT k, eid, a FROM unnest(new_anchors) AS a
            ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- A patrol's visits and reported items are part of the patrol the feed sends.
CREATE FUNCTION sync_patrol_part() RETURNS trigger AS $$
BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq)
        VALUES ('patrol', NEW.patrol_id, pg_current_xact_id()::text::bigint, nextval('sync_seq'))
        ON CONFLICT (kind, entity_id) DO UPDATE SET tx = EXCLUDED.tx, seq = EXCLUDED.seq;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION sync_unit_moved() RETURNS trigger AS $$
BEGIN
    IF OLD.path <> NEW.path THEN
        UPDATE sync_epoch SET epoch = epoch + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER units_sync AFTER INSERT OR UPDATE OR DELETE ON units
    FOR EACH ROW EXECUTE FUNCTION sync_record('unit', 'id', 'parent_id');
CREATE TRIGGER units_sync_moved AFTER UPDATE OF path ON units
    FOR EACH ROW EXECUTE FUNCTION sync_unit_moved();
CREATE TRIGGER categories_sync AFTER INSERT OR UPDATE OR DELETE ON categories
    FOR EACH ROW EXECUTE FUNCTION sync_record('category', '*');
CREATE TRIGGER checklists_sync AFTER INSERT OR UPDATE OR DELETE ON checklists
    FOR EACH ROW EXECUTE FUNCTION sync_record('checklist', '*');
CREATE TRIGGER sites_sync AFTER INSERT OR UPDATE OR DELETE ON sites
    FOR EACH ROW EXECUTE FUNCTION sync_record('site', 'grid_id', 'unit_id');
CREATE TRIGGER tasks_sync AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION sync_record('task', 'unit_id');
CREATE TRIGGER rectifications_sync AFTER INSERT OR UPDATE OR DELETE ON rectifications
    FOR EACH ROW EXECUTE FUNCTION sync_record('item', 'grid_id', 'unit_id');
CREATE TRIGGER patrols_sync AFTER INSERT OR UPDATE OR DELETE ON patrols
    FOR EACH ROW EXECUTE FUNCTION sync_record('patrol', 'grid_id');
CREATE TRIGGER patrol_visits_sync AFTER INSERT ON patrol_visits
    FOR EACH ROW EXECUTE FUNCTION sync_patrol_part();
CREATE TRIGGER patrol_items_sync AFTER INSERT ON patrol_items
    FOR EACH ROW EXECUTE FUNCTION sync_patrol_part();

-- Existing records start in the feed, as changes of this migration's transaction.
INSERT INTO sync_log (kind, entity_id, tx, seq)
    SELECT k, id, pg_current_xact_id()::text::bigint, nextval('sync_seq') FROM (
        SELECT 'unit' AS k, id, created_at FROM units
        UNION ALL SELECT 'category', id, created_at FROM categories
        UNION ALL SELECT 'checklist', id, created_at FROM checklists
        UNION ALL SELECT 'site', id, created_at FROM sites
        UNION ALL SELECT 'task', id, created_at FROM tasks
        UNION ALL SELECT 'item', id, created_at FROM rectifications
        UNION ALL SELECT 'patrol', id, created_at FROM patrols
        ORDER BY created_at, id
    ) AS existing;
INSERT INTO sync_anchors (kind, entity_id, anchor)
    SELECT 'unit', id, id FROM units
    UNION ALL SELECT 'unit', id, parent_id FROM units WHERE parent_id IS NOT NULL
    UNION ALL SELECT 'category', id, '*' FROM categories
    UNION ALL SELECT 'checklist', id, '*' FROM checklists
    UNION ALL SELECT 'site', id, grid_id FROM sites
    UNION ALL SELECT 'site', id, unit_id FROM sites WHERE unit_id <> grid_id
    UNION ALL SELECT 'task', id, unit_id FROM tasks
    UNION ALL SELECT 'item', id, grid_id FROM rectifications
    UNION ALL SELECT 'item', id, unit_id FROM rectifications
        WHERE unit_id IS NOT NULL AND unit_id <> grid_id
    UNION ALL SELECT 'patrol', id, grid_id FROM patrols;
