-- How often a tag is expected to be stored while its collector is healthy: the
-- poll interval, or for a tag recorded by exception (deadband) its longest
-- interval between stored values. A reading older than three of these is
-- stale, and a longer silence between two readings is drawn as a gap.
-- Filled by whoever knows (the ingest configuration); a tag without a row uses
-- its site's default, and a site without one the built-in default (60 s).
CREATE TABLE tag_sampling (
    tag_id               integer PRIMARY KEY REFERENCES tags (id),
    expected_interval_s  double precision NOT NULL CHECK (expected_interval_s > 0),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE site_sampling (
    site_id              integer PRIMARY KEY REFERENCES sites (id),
    expected_interval_s  double precision NOT NULL CHECK (expected_interval_s > 0),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
