DROP INDEX units_parent_name;
DROP INDEX users_username_lower;
DROP INDEX units_code_lower;
ALTER TABLE login_throttles DROP COLUMN in_flight;
ALTER TABLE users DROP COLUMN must_change_password;
DROP TABLE sessions;
