-- The collectors' health as last published by the ingest process, which may not
-- be the web app's process: one row per device (or server) and one for the
-- writer, rewritten every few seconds. A row whose updated_at is old means the
-- ingest process is not running or cannot reach the database.
CREATE TABLE ingest_health (
    site_code   text NOT NULL,
    component   text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('writer', 'modbus_device', 'opcua_server')),
    state       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_code, component)
);
