-- A mark also carries the earliest sample time its batch wrote in that hour, so
-- the refresh recomputes the minute rollups from that minute on rather than the
-- whole hour: the hour being written is marked again every second, and
-- recomputing all of it each round cost 10-25 ms per tag (measured), against a
-- minute or two of readings. NULL (marks written by a backfill) means the whole hour.
ALTER TABLE rollup_dirty ADD COLUMN from_time timestamptz;
ALTER TABLE rollup_dirty ADD CONSTRAINT rollup_dirty_from_time_in_hour CHECK (
    from_time IS NULL
    OR (from_time >= bucket_hour AND from_time < bucket_hour + INTERVAL '1 hour'));

-- Same call as before: the batch's tag ids and sample times as parallel arrays
-- (or one earliest time per tag and hour, as dashboards.rollups.dirty_hours gives).
CREATE OR REPLACE FUNCTION clearwell_mark_dirty(tag_ids integer[], times timestamptz[])
RETURNS integer
LANGUAGE sql
AS $$
    WITH marked AS (
        INSERT INTO rollup_dirty (tag_id, bucket_hour, from_time)
        SELECT u.tag_id, time_bucket(INTERVAL '1 hour', u.time), min(u.time)
        FROM unnest(tag_ids, times) AS u (tag_id, time)
        WHERE u.tag_id IS NOT NULL AND u.time IS NOT NULL
        GROUP BY 1, 2
        RETURNING 1
    )
    SELECT count(*)::integer FROM marked
$$;
