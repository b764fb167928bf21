-- The staffing stamp in force per entry: the newest recomputed revision, else the stamp
-- made when the entry was written. For the logbook's entry listing to join instead of
-- entry_staffing (same entry_id and stamp columns).
CREATE VIEW entry_staffing_current AS
SELECT s.entry_id,
       coalesce(r.stamp, s.stamp) AS stamp,
       coalesce(r.stamped_at, s.stamped_at) AS stamped_at,
       r.id IS NOT NULL AS revised,
       s.stamp AS first_stamp
FROM entry_staffing s
LEFT JOIN LATERAL (
    SELECT v.id, v.stamp, v.stamped_at FROM entry_staffing_revisions v
    WHERE v.entry_id = s.entry_id ORDER BY v.id DESC LIMIT 1
) r ON true;
