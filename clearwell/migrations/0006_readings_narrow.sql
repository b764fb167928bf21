-- Readings narrowed (issue 20): a plant keeps them for months, so every byte of a
-- row counts hundreds of millions of times.
--
-- * Columns in the order that needs no padding: time, tag_id and status fill 16
--   bytes and value starts aligned, where tag_id, value, status, server_time left
--   4 bytes of padding after tag_id and 4 after status. A row without a server
--   time (every Modbus reading) is 48 bytes with its header instead of 56.
-- * One plain unique (tag_id, time DESC) index instead of the covering one: the
--   covering index carried value and status again and was as large as the heap
--   (measured by bench/bench_storage.py: 61 B a reading for each). Queries of one
--   tag over a time range now read the heap too; they are short windows (the
--   trends read the rollups beyond a few hours), and report-by-exception stores
--   an order of magnitude fewer rows than one per poll (ingest.deadband).
--   Uniqueness still absorbs a replayed batch (ON CONFLICT (tag_id, time)).
--
-- The rows are moved in time order into a new hypertable, which then takes the
-- old one's name; the index is built after the move, packed.
CREATE TABLE readings_narrow (
    time         timestamptz NOT NULL,
    tag_id       integer NOT NULL,
    status       integer NOT NULL DEFAULT 0,
    value        double precision,
    server_time  timestamptz
);
SELECT create_hypertable('readings_narrow', by_range('time', INTERVAL '1 day'),
                         create_default_indexes => false);

INSERT INTO readings_narrow (time, tag_id, status, value, server_time)
SELECT time, tag_id, status, value, server_time FROM readings ORDER BY time, tag_id;

DROP TABLE readings;
ALTER TABLE readings_narrow RENAME TO readings;
CREATE UNIQUE INDEX readings_tag_time ON readings (tag_id, time DESC);

COMMENT ON COLUMN readings.time IS
    'the time the value is for: source timestamp where the device gives one, else read time';
COMMENT ON COLUMN readings.server_time IS
    'the OPC UA server timestamp of the value, where there is one';
