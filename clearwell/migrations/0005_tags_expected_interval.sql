-- How often a tag's source is expected to give a new reading while it is healthy:
-- what tells a stale value from a steady one. Set by whoever configures the
-- source (the ingest tag sync: the poll interval, or for a tag stored by
-- exception its longest silence); null where nobody can say (an OPC UA
-- subscription reports changes only). The dashboards' tag_sampling overrides it.
ALTER TABLE tags ADD COLUMN expected_interval_s double precision
    CHECK (expected_interval_s IS NULL OR expected_interval_s > 0);
