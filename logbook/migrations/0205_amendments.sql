-- Corrections, never edits: an amendment names the record it corrects, the new
-- values of the fields it changes, and why. A record's current value is the
-- original with its amendments applied in order (logbook/amend.py).
CREATE TABLE amendments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target        text NOT NULL CHECK (target IN ('entry', 'sample', 'result', 'crew')),
    target_id     bigint NOT NULL,
    changes       jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'object' AND changes <> '{}'),
    reason        text NOT NULL CHECK (length(btrim(reason)) >= 3),
    amended_by    integer NOT NULL REFERENCES people (id),
    amended_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    after_signing boolean NOT NULL,
    client_key    text CHECK (length(client_key) BETWEEN 1 AND 200),
    request_sha   text,
    UNIQUE (amended_by, client_key)
);
CREATE INDEX amendments_target ON amendments (target, target_id, id);

SELECT logbook_make_append_only('amendments');
