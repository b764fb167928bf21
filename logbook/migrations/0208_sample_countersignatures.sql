-- A sample's collection, and each of its results, verified by an operator who did not
-- take or analyse it, as a trainee's entry is countersigned (entry_countersignatures):
-- the verifier re-enters their password and the row binds the sha256 of the record as
-- it stood. The compliance engine reads them as the verification its competency policy
-- asks of sampling and lab work.
CREATE TABLE sample_countersignatures (
    sample_id      bigint PRIMARY KEY REFERENCES samples (id),
    person_id      integer NOT NULL REFERENCES people (id),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    signed_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE result_countersignatures (
    result_id      bigint PRIMARY KEY REFERENCES sample_results (id),
    person_id      integer NOT NULL REFERENCES people (id),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    signed_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

SELECT logbook_make_append_only(t) FROM unnest(ARRAY[
    'sample_countersignatures', 'result_countersignatures']::regclass[]) AS t;
