-- A double tap on a floor terminal must not add a crew stint, a handoff note or a
-- custody hand-over twice: these take a client key too, unique per person.
ALTER TABLE shift_crew ADD COLUMN client_key text CHECK (length(client_key) BETWEEN 1 AND 200),
                       ADD COLUMN request_sha text,
                       ADD UNIQUE (added_by, client_key);
ALTER TABLE handoff_notes ADD COLUMN client_key text CHECK (length(client_key) BETWEEN 1 AND 200),
                          ADD COLUMN request_sha text,
                          ADD UNIQUE (written_by, client_key);
ALTER TABLE custody_transfers ADD COLUMN client_key text
                                  CHECK (length(client_key) BETWEEN 1 AND 200),
                              ADD COLUMN request_sha text,
                              ADD UNIQUE (recorded_by, client_key);
