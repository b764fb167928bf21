-- Competency levels (seed 000, a site policy, never a regulation): each person's assessed
-- level at a site, and the site's supervision policy. Append-only like the operators'
-- records: a corrected assessment is a new row naming the row it supersedes; a new policy
-- is a new version, the newest in force (none recorded: compliance.competency's default).
CREATE TABLE competency_assessments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id      integer NOT NULL REFERENCES sites (id),
    person_id    integer NOT NULL REFERENCES people (id),
    level        text NOT NULL CHECK (level IN ('emerging', 'developing', 'proficient',
                                                'advanced')),
    -- The local day from which the level holds.
    assessed_on  date NOT NULL,
    assessor_id  integer NOT NULL REFERENCES people (id),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    supersedes   bigint UNIQUE REFERENCES competency_assessments (id),
    recorded_by  integer REFERENCES people (id),
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX competency_assessments_site_person
    ON competency_assessments (site_id, person_id, assessed_on, id);

-- The site's changes to the default policy, per entry kind:
-- {"reading": {"unsupervised_from": "developing", "below": "verify"}, ...}.
CREATE TABLE competency_policies (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id      integer NOT NULL REFERENCES sites (id),
    kinds        jsonb NOT NULL CHECK (jsonb_typeof(kinds) = 'object'),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    recorded_by  integer REFERENCES people (id),
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX competency_policies_site ON competency_policies (site_id, id);

SELECT logbook_make_append_only(t) FROM unnest(ARRAY[
    'competency_assessments', 'competency_policies']::regclass[]) AS t;
