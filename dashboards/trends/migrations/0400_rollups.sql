-- Per-minute and per-hour rollups of readings, for trends and reports.
--
-- TimescaleDB's Apache edition has no continuous aggregates, so these are kept
-- by Clearwell itself: the ingest writer marks the (tag, hour) pairs each batch
-- touched in rollup_dirty, in the transaction of its insert, and a refresh job
-- (dashboards.rollups) recomputes those hours from readings and removes the
-- marks it handled. Late data therefore only needs a mark to be rolled up again.
--
-- A sample is good when its OPC UA severity (the top two bits of status) is
-- Good and it has a value; n_bad counts every other sample (Uncertain, Bad, or
-- no value). The value columns describe good samples only, so a bad sample
-- never moves an average, and sum with n_good makes re-aggregation exact:
-- avg over any set of buckets is sum(sum) / sum(n_good).
-- first_time, last_time and last_status describe every sample, good or bad: they
-- tell a gap (no samples at all) from a bad spell (a Bad status, which the
-- collectors store once when it starts, not on every poll).

CREATE TABLE readings_1m (
    tag_id       integer NOT NULL,
    bucket       timestamptz NOT NULL,
    n_good       integer NOT NULL,
    n_bad        integer NOT NULL,
    sum          double precision,
    min          double precision,
    max          double precision,
    avg          double precision GENERATED ALWAYS AS (sum / NULLIF(n_good, 0)) STORED,
    first        double precision,
    last         double precision,
    first_time   timestamptz NOT NULL,
    last_time    timestamptz NOT NULL,
    last_status  integer NOT NULL
);
-- Seven days of minutes per chunk: 300 tags make about 3 million rows a chunk.
SELECT create_hypertable('readings_1m', by_range('bucket', INTERVAL '7 days'),
                         create_default_indexes => false);
CREATE UNIQUE INDEX readings_1m_tag_bucket ON readings_1m (tag_id, bucket DESC);

CREATE TABLE readings_1h (LIKE readings_1m INCLUDING GENERATED);
SELECT create_hypertable('readings_1h', by_range('bucket', INTERVAL '90 days'),
                         create_default_indexes => false);
CREATE UNIQUE INDEX readings_1h_tag_bucket ON readings_1h (tag_id, bucket DESC);

-- Hours whose rollups are out of date. Append-only from the writers' side (no
-- unique key, so marking never waits on the refresh job); the job deletes the
-- rows it read, by seq, in the transaction that recomputes their hours, so a
-- mark committed meanwhile for the same hour survives for the next round.
CREATE TABLE rollup_dirty (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag_id       integer NOT NULL,
    bucket_hour  timestamptz NOT NULL CHECK (bucket_hour = time_bucket(INTERVAL '1 hour', bucket_hour)),
    marked_at    timestamptz NOT NULL DEFAULT now()
);

-- What the ingest writer calls after inserting a batch, in the same transaction:
-- the batch's tag ids and sample times as two parallel arrays (or already
-- distinct (tag, hour) pairs; times are truncated to their hour here). Returns
-- the number of marks written.
CREATE FUNCTION clearwell_mark_dirty(tag_ids integer[], times timestamptz[])
RETURNS integer
LANGUAGE sql
AS $$
    WITH marked AS (
        INSERT INTO rollup_dirty (tag_id, bucket_hour)
        SELECT DISTINCT u.tag_id, time_bucket(INTERVAL '1 hour', u.time)
        FROM unnest(tag_ids, times) AS u (tag_id, time)
        WHERE u.tag_id IS NOT NULL AND u.time IS NOT NULL
        RETURNING 1
    )
    SELECT count(*)::integer FROM marked
$$;
