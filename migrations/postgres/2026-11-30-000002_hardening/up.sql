-- Hardening (PostgreSQL): sessions that access tokens are bound to, forced password changes,
-- login attempts counted while in flight, and uniqueness that ignores case.

-- A session is what one login starts; its refresh tokens rotate within it, and every
-- access token names it, so ending it ends both at once.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
CREATE INDEX sessions_user_id ON sessions (user_id);
-- Every refresh-token family so far becomes a session, ended if all its tokens are.
INSERT INTO sessions (id, user_id, created_at, revoked_at)
SELECT family_id, MIN(user_id), MIN(created_at),
       CASE WHEN COUNT(*) = COUNT(revoked_at) THEN MAX(revoked_at) END
FROM refresh_tokens GROUP BY family_id;

-- Set by an admin's password reset; the user must choose a new password before anything else.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- Attempts reserved but not yet decided (their password is being checked).
ALTER TABLE login_throttles ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;

-- Codes and usernames are unique whatever their case; siblings are unique by name.
CREATE UNIQUE INDEX units_code_lower ON units (lower(code));
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
CREATE UNIQUE INDEX units_parent_name ON units (parent_id, name);
