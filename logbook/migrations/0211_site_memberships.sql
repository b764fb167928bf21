-- People belong to sites: a person acts at the sites they belong to (admins everywhere,
-- a regulator at the sites they oversee), as clearwell/access.py's matrix says. Joining
-- and leaving are appended, never edited: the newest row for a person and a site says
-- whether they belong there (site_members).
CREATE TABLE site_memberships (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   integer NOT NULL REFERENCES people (id),
    site_id     integer NOT NULL REFERENCES sites (id),
    -- true: belongs from now on; false: no longer (a retraction).
    member      boolean NOT NULL,
    reason      text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    set_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    set_by      integer REFERENCES people (id)
);
CREATE INDEX site_memberships_current ON site_memberships (person_id, site_id, id DESC);
SELECT logbook_make_append_only('site_memberships');

CREATE VIEW site_members AS
SELECT person_id, site_id
FROM (SELECT DISTINCT ON (person_id, site_id) person_id, site_id, member
      FROM site_memberships ORDER BY person_id, site_id, id DESC) newest
WHERE member;

-- An install made before memberships keeps working as it did: each person belongs to
-- the sites they worked at (what they did there is in the audit chain; crews and
-- samplers name people who did not write the row themselves); a person who worked
-- nowhere yet (a new operator, a regulator who only read) belongs to the only site of
-- a single-site install, and elsewhere an admin says where (`clearwell users sites`).
INSERT INTO site_memberships (person_id, site_id, member, reason)
SELECT w.person_id, w.site_id, true, 'worked at this site before memberships (migration 0211)'
FROM (
    SELECT actor_id AS person_id, site_id FROM audit_log
    WHERE actor_id IS NOT NULL AND site_id IS NOT NULL
      AND action NOT IN ('forbidden', 'auth.login_failed', 'auth.confirm_failed')
    UNION SELECT c.person_id, s.site_id FROM shift_crew c JOIN shifts s ON s.id = c.shift_id
    UNION SELECT x.person_id, s.site_id FROM sample_samplers x JOIN samples s ON s.id = x.sample_id
) w
JOIN people p ON p.id = w.person_id
JOIN sites s ON s.id = w.site_id
ORDER BY w.person_id, w.site_id;

INSERT INTO site_memberships (person_id, site_id, member, reason)
SELECT p.id, s.id, true, 'the only site when memberships began (migration 0211)'
FROM people p CROSS JOIN sites s
WHERE (SELECT count(*) FROM sites) = 1
  AND NOT EXISTS (SELECT 1 FROM site_memberships m WHERE m.person_id = p.id)
ORDER BY p.id;

-- The rows above are named in the audit chain as the application's writes are
-- (logbook/audit.py): one row, appended here. Where the chain also names the record rows
-- each write made (the `records` column, when an install has it), this row names these.
DO $$
DECLARE
    genesis CONSTANT text := repeat('0', 64);
    n integer;
    at timestamptz;
    content text;
    refs text[];
BEGIN
    SELECT count(*) INTO n FROM site_memberships;
    IF n = 0 THEN
        RETURN;
    END IF;
    SET LOCAL timezone = 'UTC';
    PERFORM pg_advisory_xact_lock(1668050023);  -- logbook.audit.CHAIN_LOCK
    at := clock_timestamp();
    -- The row's content as logbook/canonical.py writes it (keys sorted, no spaces).
    content := '{"action":"site.membership_baseline","actor":"migration","actor_id":null,"at":"'
        || to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00","detail":{"memberships":'
        || n || '},"site_id":null,"subject":null,"subject_id":null}';
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'audit_log'::regclass
               AND attname = 'records' AND NOT attisdropped) THEN
        EXECUTE 'SELECT audit_take_records()' INTO refs;
    END IF;
    IF refs IS NULL THEN
        INSERT INTO audit_log (seq, at, actor_id, actor, action, subject, subject_id, site_id,
                               detail, prev_hash, row_hash)
        SELECT coalesce(h.seq, 0) + 1, at, NULL, 'migration', 'site.membership_baseline', NULL,
               NULL, NULL, jsonb_build_object('memberships', n), coalesce(h.row_hash, genesis),
               encode(sha256(convert_to(coalesce(h.row_hash, genesis)
                   || encode(sha256(convert_to(content, 'UTF8')), 'hex'), 'UTF8')), 'hex')
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1) h
            ON true;
    ELSE
        EXECUTE $sql$
            INSERT INTO audit_log (seq, at, actor_id, actor, action, subject, subject_id,
                                   site_id, detail, records, prev_hash, row_hash)
            SELECT coalesce(h.seq, 0) + 1, $1, NULL, 'migration', 'site.membership_baseline',
                   NULL, NULL, NULL, jsonb_build_object('memberships', $2), $4,
                   coalesce(h.row_hash, $5),
                   encode(sha256(convert_to(coalesce(h.row_hash, $5)
                       || encode(sha256(convert_to($3, 'UTF8')), 'hex')
                       || encode(sha256(convert_to(array_to_string($4, E'\n'), 'UTF8')), 'hex'),
                       'UTF8')), 'hex')
            FROM (SELECT 1) AS one
            LEFT JOIN LATERAL (SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1) h
                ON true
        $sql$ USING at, n, content, refs, genesis;
    END IF;
END;
$$;

-- When each session was last used, for the idle timeout (CLEARWELL_SESSION_IDLE_S): a
-- working table, one row per session, moved forward at most every half minute.
CREATE TABLE session_activity (
    session_id    bigint PRIMARY KEY REFERENCES sessions (id),
    last_seen_at  timestamptz NOT NULL
);

-- A PIN login, or a verification at a floor terminal, by someone who does not belong to
-- the terminal's site.
ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_outcome_check;
ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_outcome_check
    CHECK (outcome IN ('ok', 'bad_credentials', 'rate_limited', 'pin_not_allowed', 'disabled',
                       'not_member'));
