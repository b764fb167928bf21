-- Recomputed staffing stamps. The logbook's entry_staffing keeps one stamp per entry,
-- made when the entry was written; when a recompute (a certificate entered late, a crew
-- time corrected) gives a different stamp, it is appended here and the newest row per
-- entry supersedes the original.
CREATE TABLE entry_staffing_revisions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id    bigint NOT NULL REFERENCES entries (id),
    stamp       jsonb NOT NULL,
    reason      text NOT NULL CHECK (length(btrim(reason)) >= 3),
    stamped_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX entry_staffing_revisions_entry ON entry_staffing_revisions (entry_id, id DESC);

SELECT logbook_make_append_only('entry_staffing_revisions');
