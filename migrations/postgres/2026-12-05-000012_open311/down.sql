DROP TABLE open311_reports;
DROP TABLE open311_keys;
