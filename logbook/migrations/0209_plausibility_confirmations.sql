-- A value recorded outside its plausible range (the site file's, sitefile/ranges.py)
-- is taken only when the person confirms it with a reason: one row per value so
-- confirmed, on the entry or the result it belongs to, and on the amendment when an
-- amendment changed the value. The range it broke is kept as the site file set it
-- then, since the file may change later.
CREATE TABLE plausibility_confirmations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id        bigint REFERENCES entries (id),
    result_id       bigint REFERENCES sample_results (id),
    amendment_id    bigint REFERENCES amendments (id),
    -- The value's place in its record, as the API writes it: 'data.value', 'value'.
    field           text NOT NULL CHECK (length(field) > 0),
    value           double precision NOT NULL,
    plausible_low   double precision,
    plausible_high  double precision,
    unit            text NOT NULL DEFAULT '',
    -- What the range is of, in words: a tag's description, an analyte's name.
    subject         text NOT NULL,
    reason          text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
    confirmed_by    integer NOT NULL REFERENCES people (id),
    confirmed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((entry_id IS NULL) <> (result_id IS NULL)),
    CHECK (plausible_low IS NOT NULL OR plausible_high IS NOT NULL)
);
CREATE INDEX plausibility_confirmations_entry ON plausibility_confirmations (entry_id, id)
    WHERE entry_id IS NOT NULL;
CREATE INDEX plausibility_confirmations_result ON plausibility_confirmations (result_id, id)
    WHERE result_id IS NOT NULL;

SELECT logbook_make_append_only('plausibility_confirmations');

-- Each confirmation as a record's ``plausibility`` lists it in the API (logbook/store.py).
CREATE VIEW plausibility_json AS
SELECT id, entry_id, result_id,
       json_build_object('id', id, 'field', field, 'value', value,
                         'plausible', json_build_array(plausible_low, plausible_high),
                         'unit', unit, 'of', subject, 'reason', reason,
                         'confirmed_by', confirmed_by, 'confirmed_at', confirmed_at,
                         'amendment_id', amendment_id) AS body
FROM plausibility_confirmations;
