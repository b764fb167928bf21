-- People who use the logbook. Compliance refers to people.id for certificates
-- and training. Nothing here is updated: a role change, a new password or PIN,
-- a site setting is a new row, and the newest row is the one in force.
CREATE TABLE people (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username    text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    full_name   text NOT NULL CHECK (length(btrim(full_name)) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  integer REFERENCES people (id)
);

CREATE TABLE person_roles (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   integer NOT NULL REFERENCES people (id),
    role        text NOT NULL
                CHECK (role IN ('operator', 'trainee', 'chief_operator', 'admin', 'regulator',
                                'disabled')),
    granted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    granted_by  integer REFERENCES people (id)
);
CREATE INDEX person_roles_current ON person_roles (person_id, id DESC);

CREATE TABLE person_credentials (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   integer NOT NULL REFERENCES people (id),
    kind        text NOT NULL CHECK (kind IN ('password', 'pin')),
    hash        text NOT NULL CHECK (hash LIKE '$argon2%'),
    set_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    set_by      integer REFERENCES people (id)
);
CREATE INDEX person_credentials_current ON person_credentials (person_id, kind, id DESC);

-- Per-site logbook settings; the newest row for a site is in force.
CREATE TABLE site_logbook_settings (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id             integer NOT NULL REFERENCES sites (id),
    allow_pin_login     boolean NOT NULL DEFAULT false,
    backdate_limit      interval NOT NULL DEFAULT '24 hours'
                        CHECK (backdate_limit >= '0'::interval AND backdate_limit <= '31 days'),
    set_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    set_by              integer REFERENCES people (id)
);
CREATE INDEX site_logbook_settings_current ON site_logbook_settings (site_id, id DESC);

-- Sessions: only the sha256 of the bearer token is kept. Expiry is fixed at
-- creation; logging out appends to session_ends rather than changing the row.
CREATE TABLE sessions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    person_id   integer NOT NULL REFERENCES people (id),
    method      text NOT NULL CHECK (method IN ('password', 'pin')),
    site_id     integer REFERENCES sites (id),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    client      text,
    CHECK (expires_at > created_at)
);
CREATE TABLE session_ends (
    session_id  bigint PRIMARY KEY REFERENCES sessions (id),
    ended_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    reason      text NOT NULL CHECK (reason IN ('logout', 'revoked'))
);

-- Every login attempt, for rate limiting and for the record.
CREATE TABLE login_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    username    text NOT NULL,
    person_id   integer REFERENCES people (id),
    method      text NOT NULL CHECK (method IN ('password', 'pin')),
    client      text,
    outcome     text NOT NULL CHECK (outcome IN ('ok', 'bad_credentials', 'rate_limited',
                                                 'pin_not_allowed', 'disabled'))
);
CREATE INDEX login_attempts_username_at ON login_attempts (username, at DESC);
CREATE INDEX login_attempts_client_at ON login_attempts (client, at DESC);

SELECT logbook_make_append_only(t) FROM unnest(ARRAY[
    'people', 'person_roles', 'person_credentials', 'site_logbook_settings', 'sessions',
    'session_ends', 'login_attempts']::regclass[]) AS t;
