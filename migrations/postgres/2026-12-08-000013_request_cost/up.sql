-- Request cost at real size (issue 15).
--
-- 1. Unit paths compare bytewise ("C"), whatever the database's collation: a subtree is
--    the range of paths [p, p with its last '/' made '0'), which the index on path serves
--    (src/auth/scope.rs). LIKE with a bound pattern is served by no index here.
-- (The trigger that reads path must be dropped while its type changes.)
DROP TRIGGER units_sync_moved ON units;
ALTER TABLE units ALTER COLUMN path TYPE TEXT COLLATE "C";
CREATE TRIGGER units_sync_moved AFTER UPDATE OF path ON units
    FOR EACH ROW EXECUTE FUNCTION sync_unit_moved();

-- 2. A cheaper change log (docs/sync.md). The triggers of migration 000011 turned every
--    changed row into JSON (to_jsonb) to read its anchor columns by name, and rewrote the
--    record's anchors on every update. Now each table's triggers read their columns
--    directly; an update that moves no anchor only moves the record's sync_log row, and
--    one that does (a trigger of its own, chosen by WHEN) also records where the record
--    left its old anchors. Exactly one trigger fires per row and event, so the anchors'
--    departure position is the log row's own. The log's meaning is unchanged.
DROP TRIGGER units_sync ON units;
DROP TRIGGER categories_sync ON categories;
DROP TRIGGER checklists_sync ON checklists;
DROP TRIGGER sites_sync ON sites;
DROP TRIGGER tasks_sync ON tasks;
DROP TRIGGER rectifications_sync ON rectifications;
DROP TRIGGER patrols_sync ON patrols;
DROP FUNCTION sync_record();

-- A change to a record whose anchors stay: its log row moves to a new position.
CREATE FUNCTION sync_changed() RETURNS trigger AS $$
DECLARE
    eid TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        eid := OLD.id;
    ELSE
        eid := NEW.id;
    END IF;
    INSERT INTO sync_log (kind, entity_id, tx, seq)
        VALUES (TG_ARGV[0], eid, pg_current_xact_id()::text::bigint, nextval('sync_seq'))
        ON CONFLICT (kind, entity_id) DO UPDATE SET tx = EXCLUDED.tx, seq = EXCLUDED.seq;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- A record placed anew (created, or moved to other anchors): its log row moves, the
-- anchors it left record that position, and its anchors now are (again) current.
CREATE FUNCTION sync_place(k TEXT, eid TEXT, anchors_now TEXT[], anchors_before TEXT[])
RETURNS void AS $$
DECLARE
    t BIGINT := pg_current_xact_id()::text::bigint;
    s BIGINT := nextval('sync_seq');
BEGIN
    INSERT INTO sync_log (kind, entity_id, tx, seq) VALUES (k, eid, t, s)
        ON CONFLICT (kind, entity_id) DO UPDATE SET tx = EXCLUDED.tx, seq = EXCLUDED.seq;
    IF cardinality(anchors_before) > 0 THEN
        UPDATE sync_anchors SET left_tx = t, left_seq = s
            WHERE kind = k AND entity_id = eid
              AND anchor = ANY (anchors_before) AND anchor <> ALL (anchors_now);
    END IF;
    INSERT INTO sync_anchors (kind, entity_id, anchor)
        SELECT DISTINCT k, eid, a FROM unnest(anchors_now) AS a
        ON CONFLICT (kind, entity_id, anchor) DO UPDATE SET left_tx = NULL, left_seq = NULL
            WHERE sync_anchors.left_seq IS NOT NULL;
END
$$ LANGUAGE plpgsql;

-- Placing a row of units (anchors: id, parent_id).
CREATE FUNCTION sync_placed_id_parent_id() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.id, NEW.parent_id]::TEXT[], NULL), '{}');
    ELSE
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.id, NEW.parent_id]::TEXT[], NULL), array_remove(ARRAY[OLD.id, OLD.parent_id]::TEXT[], NULL));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Placing a row of categories, checklists (anchors: '*').
CREATE FUNCTION sync_placed_all() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY['*']::TEXT[], NULL), '{}');
    ELSE
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY['*']::TEXT[], NULL), array_remove(ARRAY['*']::TEXT[], NULL));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Placing a row of sites, rectifications (anchors: grid_id, unit_id).
CREATE FUNCTION sync_placed_grid_id_unit_id() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.grid_id, NEW.unit_id]::TEXT[], NULL), '{}');
    ELSE
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.grid_id, NEW.unit_id]::TEXT[], NULL), array_remove(ARRAY[OLD.grid_id, OLD.unit_id]::TEXT[], NULL));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Placing a row of tasks (anchors: unit_id).
CREATE FUNCTION sync_placed_unit_id() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.unit_id]::TEXT[], NULL), '{}');
    ELSE
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.unit_id]::TEXT[], NULL), array_remove(ARRAY[OLD.unit_id]::TEXT[], NULL));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Placing a row of patrols (anchors: grid_id).
CREATE FUNCTION sync_placed_grid_id() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.grid_id]::TEXT[], NULL), '{}');
    ELSE
        PERFORM sync_place(TG_ARGV[0], NEW.id, array_remove(ARRAY[NEW.grid_id]::TEXT[], NULL), array_remove(ARRAY[OLD.grid_id]::TEXT[], NULL));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER units_sync_insert AFTER INSERT ON units
    FOR EACH ROW EXECUTE FUNCTION sync_placed_id_parent_id('unit');
CREATE TRIGGER units_sync_update AFTER UPDATE ON units
    FOR EACH ROW WHEN (OLD.id IS NOT DISTINCT FROM NEW.id AND OLD.parent_id IS NOT DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION sync_changed('unit');
CREATE TRIGGER units_sync_placed AFTER UPDATE ON units
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION sync_placed_id_parent_id('unit');
CREATE TRIGGER units_sync_delete AFTER DELETE ON units
    FOR EACH ROW EXECUTE FUNCTION sync_changed('unit');

CREATE TRIGGER categories_sync_insert AFTER INSERT ON categories
    FOR EACH ROW EXECUTE FUNCTION sync_placed_all('category');
CREATE TRIGGER categories_sync_update AFTER UPDATE ON categories
    FOR EACH ROW EXECUTE FUNCTION sync_changed('category');
CREATE TRIGGER categories_sync_delete AFTER DELETE ON categories
    FOR EACH ROW EXECUTE FUNCTION sync_changed('category');

CREATE TRIGGER checklists_sync_insert AFTER INSERT ON checklists
    FOR EACH ROW EXECUTE FUNCTION sync_placed_all('checklist');
CREATE TRIGGER checklists_sync_update AFTER UPDATE ON checklists
    FOR EACH ROW EXECUTE FUNCTION sync_changed('checklist');
CREATE TRIGGER checklists_sync_delete AFTER DELETE ON checklists
    FOR EACH ROW EXECUTE FUNCTION sync_changed('checklist');

CREATE TRIGGER sites_sync_insert AFTER INSERT ON sites
    FOR EACH ROW EXECUTE FUNCTION sync_placed_grid_id_unit_id('site');
CREATE TRIGGER sites_sync_update AFTER UPDATE ON sites
    FOR EACH ROW WHEN (OLD.grid_id IS NOT DISTINCT FROM NEW.grid_id AND OLD.unit_id IS NOT DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION sync_changed('site');
CREATE TRIGGER sites_sync_placed AFTER UPDATE ON sites
    FOR EACH ROW WHEN (OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION sync_placed_grid_id_unit_id('site');
CREATE TRIGGER sites_sync_delete AFTER DELETE ON sites
    FOR EACH ROW EXECUTE FUNCTION sync_changed('site');

CREATE TRIGGER tasks_sync_insert AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION sync_placed_unit_id('task');
CREATE TRIGGER tasks_sync_update AFTER UPDATE ON tasks
    FOR EACH ROW WHEN (OLD.unit_id IS NOT DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION sync_changed('task');
CREATE TRIGGER tasks_sync_placed AFTER UPDATE ON tasks
    FOR EACH ROW WHEN (OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION sync_placed_unit_id('task');
CREATE TRIGGER tasks_sync_delete AFTER DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION sync_changed('task');

CREATE TRIGGER rectifications_sync_insert AFTER INSERT ON rectifications
    FOR EACH ROW EXECUTE FUNCTION sync_placed_grid_id_unit_id('item');
CREATE TRIGGER rectifications_sync_update AFTER UPDATE ON rectifications
    FOR EACH ROW WHEN (OLD.grid_id IS NOT DISTINCT FROM NEW.grid_id AND OLD.unit_id IS NOT DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION sync_changed('item');
CREATE TRIGGER rectifications_sync_placed AFTER UPDATE ON rectifications
    FOR EACH ROW WHEN (OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION sync_placed_grid_id_unit_id('item');
CREATE TRIGGER rectifications_sync_delete AFTER DELETE ON rectifications
    FOR EACH ROW EXECUTE FUNCTION sync_changed('item');

CREATE TRIGGER patrols_sync_insert AFTER INSERT ON patrols
    FOR EACH ROW EXECUTE FUNCTION sync_placed_grid_id('patrol');
CREATE TRIGGER patrols_sync_update AFTER UPDATE ON patrols
    FOR EACH ROW WHEN (OLD.grid_id IS NOT DISTINCT FROM NEW.grid_id)
    EXECUTE FUNCTION sync_changed('patrol');
CREATE TRIGGER patrols_sync_placed AFTER UPDATE ON patrols
    FOR EACH ROW WHEN (OLD.grid_id IS DISTINCT FROM NEW.grid_id)
    EXECUTE FUNCTION sync_placed_grid_id('patrol');
CREATE TRIGGER patrols_sync_delete AFTER DELETE ON patrols
    FOR EACH ROW EXECUTE FUNCTION sync_changed('patrol');

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
