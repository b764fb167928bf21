-- A reading's time is the time its value is for: the source timestamp where the
-- device gives one (OPC UA), else the time the collector read it (Modbus). The
-- OPC UA server's own timestamp is kept beside it, because the two can differ
-- by the server's buffering and clock and a regulator may ask which is which;
-- the column 0003 reserved as source_time holds exactly that, so it is renamed.
ALTER TABLE readings RENAME COLUMN source_time TO server_time;
COMMENT ON COLUMN readings.time IS
    'the time the value is for: source timestamp where the device gives one, else read time';
COMMENT ON COLUMN readings.server_time IS
    'the OPC UA server timestamp of the value, where there is one';
