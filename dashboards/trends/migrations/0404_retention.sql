-- Retention (issue 20): how long each site keeps its raw readings and each rollup.
--
-- A site without a row keeps the defaults (dashboards.trends.retention.DEFAULT:
-- raw readings 90 days, minute rollups 180, hourly rollups 3,653). The hourly
-- rollups carry the record past the raw readings (the monthly report reads them),
-- so they are kept at least three years and a day, NPDES's minimum (40 CFR
-- 122.41(j)(2)); drinking water's 5-10 years (40 CFR 141.33) is a longer setting.
-- Chunks hold every site's readings, so a hypertable is kept as long as the
-- longest-keeping site asks.
CREATE TABLE site_retention (
    site_id      integer PRIMARY KEY REFERENCES sites (id),
    raw_days     integer NOT NULL CHECK (raw_days >= 7),
    minute_days  integer NOT NULL CHECK (minute_days >= raw_days),
    hour_days    integer NOT NULL CHECK (hour_days >= 1096 AND hour_days >= minute_days),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- What retention has dropped: per hypertable, the time before which its chunks are
-- gone (the end of the newest chunk dropped). The trends read the next coarser
-- rollup for a window that begins before it, and say so.
CREATE TABLE retention_horizon (
    hypertable      text PRIMARY KEY CHECK (hypertable IN ('readings', 'readings_1m', 'readings_1h')),
    dropped_before  timestamptz NOT NULL,
    dropped_at      timestamptz NOT NULL DEFAULT now()
);

-- Drops the target hypertable's chunks that end at or before older_than, and moves
-- its horizon; returns the chunks dropped. Raw readings are never dropped from the
-- oldest hour the rollups have yet to recompute (rollup_dirty) on, whatever the
-- caller asks: the check is here, in the drop's transaction, so that a mark
-- committed after the caller planned still holds. SECURITY DEFINER: the owner
-- drops chunks, and the running app may only call this.
CREATE FUNCTION clearwell_drop_chunks(target text, older_than timestamptz)
RETURNS SETOF text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    cutoff timestamptz := older_than;
    oldest_mark timestamptz;
    newest_end timestamptz;
BEGIN
    IF target NOT IN ('readings', 'readings_1m', 'readings_1h') THEN
        RAISE EXCEPTION 'clearwell_drop_chunks: % is not a retained hypertable', target;
    END IF;
    IF target = 'readings' THEN
        -- A refresh that has taken marks and not yet committed still shows them to
        -- this snapshot, so those hold too; drop_chunks then waits for its reads.
        SELECT min(bucket_hour) INTO oldest_mark FROM rollup_dirty;
        IF oldest_mark IS NOT NULL AND oldest_mark < cutoff THEN
            cutoff := oldest_mark;
        END IF;
    END IF;
    SELECT max(c.range_end) INTO newest_end
    FROM timescaledb_information.chunks c
    WHERE c.hypertable_schema = 'public' AND c.hypertable_name = target
      AND c.range_end <= cutoff;
    IF newest_end IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT d::text FROM drop_chunks(target::regclass, older_than => cutoff) AS d;
    INSERT INTO retention_horizon AS h (hypertable, dropped_before)
    VALUES (target, newest_end)
    ON CONFLICT ON CONSTRAINT retention_horizon_pkey DO UPDATE
        SET dropped_before = greatest(h.dropped_before, excluded.dropped_before),
            dropped_at = now();
END
$$;
