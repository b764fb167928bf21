-- Logbook entries of typed kinds; `data` holds the kind's validated fields
-- (logbook/kinds.py). `operational` is derived from the kind when written.
-- The compliance module stamps who was certified on site and in DRC at
-- occurred_at in entry_staffing (one row per entry, written once).
CREATE TABLE entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id      integer NOT NULL REFERENCES sites (id),
    shift_id     bigint NOT NULL REFERENCES shifts (id),
    kind         text NOT NULL CHECK (kind IN ('reading', 'chemical_addition',
                     'process_adjustment', 'maintenance', 'inspection', 'cleaning',
                     'alarm_ack', 'observation', 'safety', 'note')),
    data         jsonb NOT NULL,
    operational  boolean NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by  integer NOT NULL REFERENCES people (id),
    by_trainee   boolean NOT NULL DEFAULT false,
    event_id     bigint REFERENCES events (id),
    client_key   text CHECK (length(client_key) BETWEEN 1 AND 200),
    request_sha  text,
    UNIQUE (recorded_by, client_key),
    CHECK ((kind = 'alarm_ack') = (event_id IS NOT NULL))
);
CREATE INDEX entries_site_occurred ON entries (site_id, occurred_at, id);
CREATE INDEX entries_shift ON entries (shift_id, id);
CREATE INDEX entries_person ON entries (recorded_by, occurred_at);

CREATE TABLE entry_staffing (
    entry_id    bigint PRIMARY KEY REFERENCES entries (id),
    stamp       jsonb NOT NULL,
    stamped_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A certified operator on duty countersigns a trainee's entry.
CREATE TABLE entry_countersignatures (
    entry_id       bigint PRIMARY KEY REFERENCES entries (id),
    person_id      integer NOT NULL REFERENCES people (id),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    signed_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

SELECT logbook_make_append_only(t) FROM unnest(ARRAY[
    'entries', 'entry_staffing', 'entry_countersignatures']::regclass[]) AS t;
