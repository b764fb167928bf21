-- Full-text search of the log (GET /api/entries?q=): the words of an entry's fields and
-- those of the amendments that correct it, each behind an expression GIN index. An
-- index, not a generated column: entries and amendments are append-only record tables,
-- and an index adds no column to what their rows, hashes and exports carry.
--
-- The 'simple' configuration (lower-cased words, no stemming, no stop words): plant logs
-- are full of words English stemming and stop words get wrong ("DO" for dissolved oxygen
-- and "no" are English stop words, "pH" and codes like "RAS-2" are not English words);
-- the query matches each word as a prefix instead (pump finds pumps and pumped).
-- Only the JSON's string values are words: keys and numbers are not text anyone typed.
CREATE FUNCTION logbook_entry_words(data jsonb) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN jsonb_to_tsvector('simple'::regconfig, data, '["string"]');

CREATE FUNCTION logbook_amendment_words(changes jsonb, reason text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN jsonb_to_tsvector('simple'::regconfig, changes, '["string"]')
        || to_tsvector('simple'::regconfig, reason);

CREATE INDEX entries_words ON entries USING gin (logbook_entry_words(data));
CREATE INDEX amendments_entry_words ON amendments
    USING gin (logbook_amendment_words(changes, reason)) WHERE target = 'entry';
