-- The ledger reads items in (created_at, id) order, a batch at a time from where the last
-- batch ended: an index in that order makes each batch a range read, not a sort of the
-- rest of the table.
DROP INDEX rectifications_created_at;
CREATE INDEX rectifications_created_at ON rectifications (created_at, id);
