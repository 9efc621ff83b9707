-- Back to migration 000011's triggers and LIKE-friendly paths.
DROP INDEX rectifications_status;
DROP INDEX units_grid_box;
DROP INDEX rectifications_duplicate_of;
DROP INDEX rectifications_category_place;
CREATE INDEX rectifications_category_id ON rectifications (category_id, status);
DROP TRIGGER units_sync_insert ON units;
DROP TRIGGER units_sync_update ON units;
DROP TRIGGER units_sync_placed ON units;
DROP TRIGGER units_sync_delete ON units;
DROP TRIGGER categories_sync_insert ON categories;
DROP TRIGGER categories_sync_update ON categories;
DROP TRIGGER categories_sync_delete ON categories;
DROP TRIGGER checklists_sync_insert ON checklists;
DROP TRIGGER checklists_sync_update ON checklists;
DROP TRIGGER checklists_sync_delete ON checklists;
DROP TRIGGER sites_sync_insert ON sites;
DROP TRIGGER sites_sync_update ON sites;
DROP TRIGGER sites_sync_placed ON sites;
DROP TRIGGER sites_sync_delete ON sites;
DROP TRIGGER tasks_sync_insert ON tasks;
DROP TRIGGER tasks_sync_update ON tasks;
DROP TRIGGER tasks_sync_placed ON tasks;
DROP TRIGGER tasks_sync_delete ON tasks;
DROP TRIGGER rectifications_sync_insert ON rectifications;
DROP TRIGGER rectifications_sync_update ON rectifications;
DROP TRIGGER rectifications_sync_placed ON rectifications;
DROP TRIGGER rectifications_sync_delete ON rectifications;
DROP TRIGGER patrols_sync_insert ON patrols;
DROP TRIGGER patrols_sync_update ON patrols;
DROP TRIGGER patrols_sync_placed ON patrols;
DROP TRIGGER patrols_sync_delete ON patrols;
DROP FUNCTION sync_placed_id_parent_id();
DROP FUNCTION sync_placed_all();
DROP FUNCTION sync_placed_grid_id_unit_id();
DROP FUNCTION sync_placed_unit_id();
DROP FUNCTION sync_placed_grid_id();
DROP FUNCTION sync_place(TEXT, TEXT, TEXT[], TEXT[]);
DROP FUNCTION sync_changed();
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
CREATE TRIGGER units_sync AFTER INSERT OR UPDATE OR DELETE ON units
    FOR EACH ROW EXECUTE FUNCTION sync_record('unit', 'id', 'parent_id');
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
DROP TRIGGER units_sync_moved ON units;
ALTER TABLE units ALTER COLUMN path TYPE TEXT COLLATE "default";
CREATE TRIGGER units_sync_moved AFTER UPDATE OF path ON units
    FOR EACH ROW EXECUTE FUNCTION sync_unit_moved();
