ALTER TABLE pairings DROP COLUMN version;
ALTER TABLE users DROP COLUMN version;
ALTER TABLE units DROP COLUMN version;
