DROP TABLE pairings;
DROP TABLE login_throttles;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE units;
