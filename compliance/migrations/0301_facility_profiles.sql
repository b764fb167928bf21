-- A facility's compliance profile: the state rule set, its category and how its class is
-- found (entered, Utah Table 2 / New York points, or Utah population). Versions take
-- effect at local midnight of effective_from in the site's time zone; for one
-- effective_from, the newest recorded row is in force (a correction), so nothing here is
-- ever updated.
CREATE TABLE facility_profiles (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id             integer NOT NULL REFERENCES sites (id),
    effective_from      date NOT NULL,
    rules               text NOT NULL CHECK (rules IN ('UT', 'VT', 'NY')),
    category            text NOT NULL CHECK (category IN ('treatment', 'collection',
                                                          'small_lagoon')),
    facility_class      text CHECK (facility_class ~* '^(I|II|III|IV|V|[1-5])A?$'),
    -- A number, or Utah's itemized Table 2 object (compliance/README.md).
    points              jsonb CHECK (jsonb_typeof(points) IN ('number', 'object')),
    population          numeric CHECK (population >= 0),
    activated_sludge    boolean NOT NULL DEFAULT false,
    -- UT R317-10-11 G: grandfather certificates lapse a year after a process is added.
    processes_added     date[] NOT NULL DEFAULT '{}',
    expiry_horizon_days integer NOT NULL DEFAULT 90 CHECK (expiry_horizon_days BETWEEN 0 AND 3650),
    note                text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    recorded_by         integer REFERENCES people (id),
    recorded_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (num_nonnulls(facility_class, points, population) = 1)
);
CREATE INDEX facility_profiles_site ON facility_profiles (site_id, effective_from, id);

SELECT logbook_make_append_only('facility_profiles');
