-- Operators' certificates and training, for the compliance engine (compliance/adapter.py).
-- Append-only like the logbook's records: a correction is a new row naming the row it
-- supersedes; a certificate or training record entered in error is retracted by a row in
-- the *_retractions table. The records in force are those neither superseded nor retracted.
CREATE TABLE operator_certificates (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     integer NOT NULL REFERENCES people (id),
    state         text NOT NULL CHECK (state IN ('UT', 'VT', 'NY')),
    category      text NOT NULL CHECK (category IN ('treatment', 'collection', 'small_lagoon')),
    -- As compliance.grades.parse_grade reads it: roman or digits, NY "A" series.
    grade         text NOT NULL CHECK (grade ~* '^(I|II|III|IV|V|[1-5])A?$'),
    -- NY 650.12 Table 4: the old name the certificate was issued under, if any.
    legacy_grade  text CHECK (length(legacy_grade) BETWEEN 1 AND 10),
    number        text NOT NULL DEFAULT '' CHECK (length(number) <= 60),
    kind          text NOT NULL CHECK (kind IN ('full', 'restricted', 'provisional', 'grandfather')),
    -- Grandfather certificates hold at one facility only (UT R317-10-11 G).
    facility_id   integer REFERENCES sites (id),
    issued        date NOT NULL,
    expires       date NOT NULL,           -- the last local day in effect
    supersedes    bigint UNIQUE REFERENCES operator_certificates (id),
    recorded_by   integer REFERENCES people (id),
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (expires >= issued),
    CHECK ((kind = 'grandfather') = (facility_id IS NOT NULL))
);
CREATE INDEX operator_certificates_person ON operator_certificates (person_id, id);

CREATE TABLE operator_certificate_retractions (
    certificate_id bigint PRIMARY KEY REFERENCES operator_certificates (id),
    reason         text NOT NULL CHECK (length(btrim(reason)) >= 3),
    retracted_by   integer REFERENCES people (id),
    retracted_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE operator_training (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     integer NOT NULL REFERENCES people (id),
    taken_on      date NOT NULL,
    -- Contact hours (1 CEU = 10).
    hours         numeric(7, 2) NOT NULL CHECK (hours > 0 AND hours <= 1000),
    online        boolean NOT NULL DEFAULT false,
    -- VT §6(c)(ii): only pre-approved courses count toward renewal.
    approved      boolean NOT NULL DEFAULT true,
    title         text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    supersedes    bigint UNIQUE REFERENCES operator_training (id),
    recorded_by   integer REFERENCES people (id),
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX operator_training_person ON operator_training (person_id, taken_on);

CREATE TABLE operator_training_retractions (
    training_id   bigint PRIMARY KEY REFERENCES operator_training (id),
    reason        text NOT NULL CHECK (length(btrim(reason)) >= 3),
    retracted_by  integer REFERENCES people (id),
    retracted_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

SELECT logbook_make_append_only(t) FROM unnest(ARRAY[
    'operator_certificates', 'operator_certificate_retractions', 'operator_training',
    'operator_training_retractions']::regclass[]) AS t;
