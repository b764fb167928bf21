-- The audit trail: every write to the logbook (records, amendments, signatures,
-- logins, failed logins, role changes, refused attempts) appends one row here.
-- Rows are hash-chained: row_hash = sha256 of the canonical JSON of the row's
-- content including prev_hash (see logbook/canonical.py), so an edit anywhere
-- breaks every later link. Appends are serialised by an advisory lock in the
-- writing transaction so two writers cannot fork the chain.
CREATE TABLE audit_log (
    seq          bigint PRIMARY KEY CHECK (seq >= 1),
    at           timestamptz NOT NULL,
    actor_id     integer,
    actor        text NOT NULL,
    action       text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)*$'),
    subject      text,
    subject_id   text,
    site_id      integer,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash    text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    row_hash     text NOT NULL UNIQUE CHECK (row_hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at);
CREATE INDEX audit_log_subject ON audit_log (subject, subject_id);

-- Shared by every record table: no row is changed or removed in place. Triggers
-- bind the table owner and superusers too (unless triggers are switched off).
CREATE FUNCTION logbook_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % is not allowed (record a correction as an amendment)',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Logbook records are never edited or deleted in place.';
END;
$$;

CREATE FUNCTION logbook_make_append_only(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION logbook_append_only()', tbl);
    EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION logbook_append_only()', tbl);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM PUBLIC', tbl);
END;
$$;

SELECT logbook_make_append_only('audit_log');
