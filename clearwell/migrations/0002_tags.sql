-- A tag is one measured or derived quantity of a site: a meter, a gauge, a
-- pump's run state. Tags are never deleted (readings and log entries point at
-- them); a retired tag keeps its row with retired_at set.
CREATE TABLE tags (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id          integer NOT NULL REFERENCES sites (id),
    name             text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$'),
    description      text NOT NULL DEFAULT '',
    unit             text NOT NULL DEFAULT '',
    source_protocol  text NOT NULL CHECK (source_protocol IN ('modbus', 'opcua', 'manual', 'derived')),
    -- Protocol address as the collector configuration writes it, e.g.
    -- 'unit=1;holding;40' or 'ns=2;s=Aeration.DO'.
    address          text NOT NULL DEFAULT '',
    eng_low          double precision,
    eng_high         double precision,
    limit_lo_lo      double precision,
    limit_lo         double precision,
    limit_hi         double precision,
    limit_hi_hi      double precision,
    created_at       timestamptz NOT NULL DEFAULT now(),
    retired_at       timestamptz,
    UNIQUE (site_id, name),
    CHECK (eng_low IS NULL OR eng_high IS NULL OR eng_low < eng_high),
    CHECK (limit_lo_lo IS NULL OR limit_lo IS NULL OR limit_lo_lo <= limit_lo),
    CHECK (limit_hi IS NULL OR limit_hi_hi IS NULL OR limit_hi <= limit_hi_hi),
    CHECK (limit_lo IS NULL OR limit_hi IS NULL OR limit_lo < limit_hi)
);
