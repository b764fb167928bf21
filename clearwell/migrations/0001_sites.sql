-- The extension is created by a superuser in template1 (scripts/setup-timescaledb.sh)
-- so that Clearwell's own role, which is not a superuser, finds it already there.
CREATE EXTENSION IF NOT EXISTS timescaledb;

-- A site is one facility: a treatment plant or a collection system, with the
-- time zone that defines its plant day.
CREATE TABLE sites (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL CHECK (length(btrim(name)) > 0),
    timezone    text NOT NULL CHECK (now() AT TIME ZONE timezone IS NOT NULL),
    state       text CHECK (state ~ '^[A-Z]{2}$'),
    category    text CHECK (category IN ('treatment', 'collection', 'small_lagoon', 'water')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
