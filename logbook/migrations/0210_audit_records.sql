-- Each audit row names the record rows its transaction wrote, with a hash of each, so
-- that `clearwell verify` checks every record row against the chain and not only the
-- chain against itself: a row changed or deleted behind the triggers' back (by the
-- tables' owner, with the triggers disabled), and a row written without an audit row,
-- are found and named. The rules are in logbook/canonical.py; in short:
--
-- * a record row's reference is '<table> <key> <columns> <sha256>': its primary key's
--   values joined by ',', the highest column number (attnum) the table had when the row
--   was written (a column added later is left out of that row's hash), and the sha256 of
--   the row's jsonb text (to_jsonb(row)::text, in UTC, extra_float_digits 1, interval
--   style postgres: what verify recomputes with PostgreSQL's built-in functions);
-- * an AFTER INSERT statement trigger on every record table adds the references of the
--   rows inserted to the transaction's list (the setting clearwell.audit_records), and
--   the next audit append takes the list into its row's `records` column;
-- * such a row's link is sha256(prev_hash || content_hash || records_digest), where
--   records_digest = sha256 of the references joined by a newline; a row without
--   records links as before, sha256(prev_hash || content_hash).
ALTER TABLE audit_log ADD COLUMN records text[];

-- The reference of one row; `row_json` is to_jsonb(row) made in the settings above.
CREATE FUNCTION audit_row_ref(tbl text, keys text[], columns integer, row_json jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT tbl || ' '
        || (SELECT string_agg(row_json ->> k, ',' ORDER BY o)
            FROM unnest(keys) WITH ORDINALITY AS u (k, o))
        || ' ' || columns || ' '
        || encode(sha256(convert_to(row_json::text, 'UTF8')), 'hex')
$$;

-- The trigger: TG_ARGV holds the table's primary key columns.
CREATE FUNCTION audit_collect_rows() RETURNS trigger LANGUAGE plpgsql
SET timezone = 'UTC' SET extra_float_digits = 1 SET intervalstyle = 'postgres'
AS $$
DECLARE
    columns integer;
    refs text;
BEGIN
    SELECT max(attnum) INTO columns FROM pg_attribute
    WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped;
    SELECT string_agg(audit_row_ref(TG_TABLE_NAME, TG_ARGV, columns, to_jsonb(r)), E'\n')
    INTO refs FROM audit_new_rows r;
    IF refs IS NOT NULL THEN
        PERFORM set_config('clearwell.audit_records',
            coalesce(nullif(current_setting('clearwell.audit_records', true), '') || E'\n', '')
                || refs,
            true);
    END IF;
    RETURN NULL;
END;
$$;

-- What the audit append takes: the transaction's references so far, and none after.
CREATE FUNCTION audit_take_records() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    pending text := nullif(current_setting('clearwell.audit_records', true), '');
BEGIN
    IF pending IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('clearwell.audit_records', '', true);
    RETURN string_to_array(pending, E'\n');
END;
$$;

CREATE FUNCTION audit_track_rows(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    keys text;
BEGIN
    SELECT string_agg(quote_literal(a.attname), ', ' ORDER BY k.o) INTO keys
    FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, o)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = tbl AND i.indisprimary;
    IF keys IS NULL THEN
        RAISE EXCEPTION 'record table % needs a primary key: its audit rows name its rows by it',
            tbl;
    END IF;
    EXECUTE format('CREATE TRIGGER audit_rows AFTER INSERT ON %s'
                   ' REFERENCING NEW TABLE AS audit_new_rows FOR EACH STATEMENT'
                   ' EXECUTE FUNCTION audit_collect_rows(%s)', tbl, keys);
END;
$$;

-- Every record table from now on is tracked as it is made append-only.
CREATE OR REPLACE FUNCTION logbook_make_append_only(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION logbook_append_only()', tbl);
    EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION logbook_append_only()', tbl);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM PUBLIC', tbl);
    IF tbl <> 'audit_log'::regclass THEN
        PERFORM audit_track_rows(tbl);
    END IF;
END;
$$;

-- And every one made before.
SELECT audit_track_rows(t.tgrelid) FROM pg_trigger t
WHERE t.tgname = 'append_only_rows' AND t.tgrelid <> 'audit_log'::regclass
ORDER BY t.tgrelid::regclass::text;

-- Rows written before this migration are named by baseline audit rows, a table's rows
-- 10,000 to a row, appended here as logbook/audit.py appends: they say what the rows
-- were when the install took this migration, not that they were never changed before.
DO $$
DECLARE
    genesis CONSTANT text := repeat('0', 64);
    t record;
    refs text[];
    at timestamptz;
    content text;
BEGIN
    SET LOCAL timezone = 'UTC';
    SET LOCAL extra_float_digits = 1;
    SET LOCAL intervalstyle = 'postgres';
    PERFORM pg_advisory_xact_lock(1668050023);  -- logbook.audit.CHAIN_LOCK
    FOR t IN
        SELECT c.oid::regclass AS tbl, c.relname::text AS name,
               (SELECT array_agg(a.attname::text ORDER BY k.o) FROM pg_index i
                CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, o)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indrelid = c.oid AND i.indisprimary) AS keys,
               (SELECT max(attnum) FROM pg_attribute
                WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) AS columns
        FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
        WHERE g.tgname = 'audit_rows' ORDER BY c.relname
    LOOP
        FOR refs IN EXECUTE format(
            'SELECT array_agg(ref ORDER BY n) FROM ('
            '  SELECT audit_row_ref(%L, %L, %s, to_jsonb(r)) AS ref,'
            '         row_number() OVER () - 1 AS n FROM %s r) s'
            ' GROUP BY n / 10000 ORDER BY n / 10000', t.name, t.keys, t.columns, t.tbl)
        LOOP
            at := clock_timestamp();
            -- The row's content as logbook/canonical.py writes it (keys sorted, no spaces).
            content := '{"action":"audit.baseline","actor":"migration","actor_id":null,"at":"'
                || to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00","detail":{"table":"'
                || t.name || '"},"site_id":null,"subject":null,"subject_id":null}';
            INSERT INTO audit_log (seq, at, actor_id, actor, action, subject, subject_id,
                                   site_id, detail, records, prev_hash, row_hash)
            SELECT coalesce(h.seq, 0) + 1, at, NULL, 'migration', 'audit.baseline', NULL, NULL,
                   NULL, jsonb_build_object('table', t.name), refs,
                   coalesce(h.row_hash, genesis),
                   encode(sha256(convert_to(
                       coalesce(h.row_hash, genesis)
                       || encode(sha256(convert_to(content, 'UTF8')), 'hex')
                       || encode(sha256(convert_to(array_to_string(refs, E'\n'), 'UTF8')), 'hex'),
                       'UTF8')), 'hex')
            FROM (SELECT 1) AS one
            LEFT JOIN LATERAL (SELECT seq, row_hash FROM audit_log ORDER BY seq DESC LIMIT 1) h
                ON true;
        END LOOP;
    END LOOP;
END;
$$;
