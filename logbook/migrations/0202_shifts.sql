-- Shifts per facility. Closing, crew departures, handoff acknowledgements and
-- signatures are appended rows: a shift row itself never changes.
CREATE TABLE shifts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     integer NOT NULL REFERENCES sites (id),
    label       text NOT NULL DEFAULT '' CHECK (length(label) <= 80),
    opened_at   timestamptz NOT NULL,
    opened_by   integer NOT NULL REFERENCES people (id),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    client_key  text CHECK (length(client_key) BETWEEN 1 AND 200),
    request_sha text,
    UNIQUE (opened_by, client_key)
);
CREATE INDEX shifts_site_opened ON shifts (site_id, opened_at DESC);

CREATE TABLE shift_closures (
    shift_id    bigint PRIMARY KEY REFERENCES shifts (id),
    closed_at   timestamptz NOT NULL,
    closed_by   integer NOT NULL REFERENCES people (id),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Who was on the shift, in which role, and when they were on site. A person may
-- have several stints (left and came back); each is a row.
CREATE TABLE shift_crew (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shift_id    bigint NOT NULL REFERENCES shifts (id),
    person_id   integer NOT NULL REFERENCES people (id),
    shift_role  text NOT NULL CHECK (shift_role IN ('drc', 'chief', 'assistant_chief',
                                                    'shift_operator', 'operator', 'trainee')),
    arrived_at  timestamptz NOT NULL,
    added_by    integer NOT NULL REFERENCES people (id),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX shift_crew_shift ON shift_crew (shift_id);
CREATE INDEX shift_crew_person ON shift_crew (person_id, arrived_at);

CREATE TABLE crew_departures (
    crew_id     bigint PRIMARY KEY REFERENCES shift_crew (id),
    left_at     timestamptz NOT NULL,
    recorded_by integer NOT NULL REFERENCES people (id),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE handoff_notes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_shift_id bigint NOT NULL REFERENCES shifts (id),
    body          text NOT NULL CHECK (length(btrim(body)) > 0),
    written_by    integer NOT NULL REFERENCES people (id),
    written_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX handoff_notes_shift ON handoff_notes (from_shift_id);

-- The incoming shift's DRC acknowledges a handoff note once.
CREATE TABLE handoff_acks (
    note_id         bigint PRIMARY KEY REFERENCES handoff_notes (id),
    to_shift_id     bigint NOT NULL REFERENCES shifts (id),
    acknowledged_by integer NOT NULL REFERENCES people (id),
    acknowledged_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A signature binds the signer to the sha256 of the shift's content at signing;
-- once a shift has one, it takes no new entries, crew or notes.
CREATE TABLE shift_signatures (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shift_id      bigint NOT NULL REFERENCES shifts (id),
    person_id     integer NOT NULL REFERENCES people (id),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    signed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    meaning       text NOT NULL DEFAULT 'reviewed and attest this shift record',
    UNIQUE (shift_id, person_id)
);

SELECT logbook_make_append_only(t) FROM unnest(ARRAY[
    'shifts', 'shift_closures', 'shift_crew', 'crew_departures', 'handoff_notes',
    'handoff_acks', 'shift_signatures']::regclass[]) AS t;
