-- entry_staffing belongs to compliance: compliance.stamping writes it and the view
-- entry_staffing_current (0303) reads it. The logbook's 0203_entries.sql created it,
-- and stays as it was applied: migrations are checksummed (clearwell/migrate.py
-- refuses a changed one), and 0203 also creates the logbook's entries. Moving the
-- table would mean renaming it under running code; the owner is recorded instead.
COMMENT ON TABLE entry_staffing IS
    'compliance: one staffing stamp per logbook entry (compliance/stamping.py);'
    ' created by logbook migration 0203';
