-- Events the collectors raise: a tag crossing an alarm limit, a device lost or
-- back. Repeats of the same condition are folded into one row (occurrences,
-- last_seen_at) instead of flooding the log; ended_at is set when it clears.
-- The logbook links alarm acknowledgements to these rows.
CREATE TABLE events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id       integer NOT NULL REFERENCES sites (id),
    tag_id        integer REFERENCES tags (id),
    source        text NOT NULL DEFAULT '',
    kind          text NOT NULL CHECK (kind IN ('limit', 'device', 'quality')),
    code          text NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('info', 'warning', 'alarm', 'critical')),
    message       text NOT NULL,
    value         double precision,
    threshold     double precision,
    started_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    ended_at      timestamptz,
    occurrences   integer NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
    CHECK (last_seen_at >= started_at),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX events_site_started ON events (site_id, started_at DESC);
-- At most one open event per tag and condition: the collector folds repeats into it.
CREATE UNIQUE INDEX events_open_condition ON events (site_id, coalesce(tag_id, 0), source, kind, code)
    WHERE ended_at IS NULL;
