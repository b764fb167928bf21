-- Fields issue 15 adds to the facility profile and the certificate (compliance/README.md
-- "From the database"). Adding a column rewrites no row, so the append-only triggers
-- stay as they are and every existing row keeps what it said.
ALTER TABLE facility_profiles
    -- How many operators the facility employs; NULL: not on record. Only 1 makes the one
    -- operator in DRC (UT R317-10-4 I).
    ADD COLUMN employed_operators integer CHECK (employed_operators >= 1),
    -- UT R317-10-11 G: grandfather certificates lapse a year after a collection system's
    -- rating changes (as after a process is added).
    ADD COLUMN rating_changes date[] NOT NULL DEFAULT '{}',
    -- VT §3(a): certificates of the facility's type.
    ADD COLUMN wastewater_type text NOT NULL DEFAULT 'domestic'
        CHECK (wastewater_type IN ('domestic', 'industrial')),
    -- UT Table 2 laboratory control: 'ladder' (the highest rung counts) or 'sum' (every
    -- item added). Rows recorded before this column were classified by summing, and keep
    -- that reading; new rows read the ladder unless told otherwise.
    ADD COLUMN laboratory_reading text NOT NULL DEFAULT 'sum'
        CHECK (laboratory_reading IN ('ladder', 'sum'));
ALTER TABLE facility_profiles ALTER COLUMN laboratory_reading SET DEFAULT 'ladder';

-- VT §6(a): a certificate states "the grade and type".
ALTER TABLE operator_certificates
    ADD COLUMN type text NOT NULL DEFAULT 'domestic' CHECK (type IN ('domestic', 'industrial'));
