-- Samples and analytical results with everything 40 CFR 122.41(j) asks for:
-- place and time of sampling, who sampled, when and by whom each analysis was
-- done, the method, and the result with its qualifier and detection limit.
CREATE TABLE samples (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id         integer NOT NULL REFERENCES sites (id),
    shift_id        bigint REFERENCES shifts (id),
    sample_point    text NOT NULL CHECK (length(btrim(sample_point)) > 0),
    sample_type     text NOT NULL CHECK (sample_type IN ('grab', 'composite')),
    sampled_at      timestamptz NOT NULL,
    composite_start timestamptz,
    composite_end   timestamptz,
    composite_kind  text CHECK (composite_kind IN ('time', 'flow')),
    container       text NOT NULL DEFAULT '',
    preservation    text NOT NULL DEFAULT '',
    notes           text NOT NULL DEFAULT '',
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by     integer NOT NULL REFERENCES people (id),
    client_key      text CHECK (length(client_key) BETWEEN 1 AND 200),
    request_sha     text,
    UNIQUE (recorded_by, client_key),
    CHECK ((sample_type = 'composite') = (composite_start IS NOT NULL AND composite_end IS NOT NULL)),
    CHECK (composite_end IS NULL OR composite_end > composite_start)
);
CREATE INDEX samples_site_sampled ON samples (site_id, sampled_at, id);

CREATE TABLE sample_samplers (
    sample_id   bigint NOT NULL REFERENCES samples (id),
    person_id   integer NOT NULL REFERENCES people (id),
    PRIMARY KEY (sample_id, person_id)
);

-- Chain of custody: each hand-over of the sample, in order.
CREATE TABLE custody_transfers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sample_id      bigint NOT NULL REFERENCES samples (id),
    relinquished_by text NOT NULL CHECK (length(btrim(relinquished_by)) > 0),
    received_by    text NOT NULL CHECK (length(btrim(received_by)) > 0),
    at             timestamptz NOT NULL,
    condition      text NOT NULL DEFAULT '',
    temperature_c  double precision,
    recorded_by    integer NOT NULL REFERENCES people (id),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX custody_transfers_sample ON custody_transfers (sample_id, at);

CREATE TABLE sample_results (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sample_id        bigint NOT NULL REFERENCES samples (id),
    analyte          text NOT NULL CHECK (length(btrim(analyte)) > 0),
    parameter_code   text CHECK (parameter_code ~ '^[0-9]{5}$'),
    method           text NOT NULL CHECK (length(btrim(method)) > 0),
    analyzed_at      timestamptz NOT NULL,
    analyst_id       integer REFERENCES people (id),
    analyst_name     text,
    lab              text NOT NULL DEFAULT '',
    value            double precision,
    unit             text NOT NULL CHECK (length(btrim(unit)) > 0),
    qualifier        text CHECK (qualifier IN ('<', '>', 'ND', 'estimated')),
    detection_limit  double precision CHECK (detection_limit > 0),
    recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by      integer NOT NULL REFERENCES people (id),
    client_key       text CHECK (length(client_key) BETWEEN 1 AND 200),
    request_sha      text,
    UNIQUE (recorded_by, client_key),
    CHECK (analyst_id IS NOT NULL OR length(btrim(analyst_name)) > 0),
    CHECK (qualifier IS DISTINCT FROM 'ND' OR detection_limit IS NOT NULL),
    CHECK (qualifier IS DISTINCT FROM '<' OR detection_limit IS NOT NULL),
    CHECK (value IS NOT NULL OR qualifier = 'ND')
);
CREATE INDEX sample_results_sample ON sample_results (sample_id);

SELECT logbook_make_append_only(t) FROM unnest(ARRAY[
    'samples', 'sample_samplers', 'custody_transfers', 'sample_results']::regclass[]) AS t;
