"""Searching the log by text: what a search may be, and the SQL that finds the entries
whose words, or whose amendments' words, match it. Pure, no I/O.

The words are PostgreSQL's (migration 0212: the ``simple`` configuration over an entry's
string fields, and over an amendment's changes and reason): the query is parsed by the
same parser, and every word of it must begin a word of the entry or of one of its
amendments, so ``pump`` finds "pumps" and "pumped", ``RAS-2`` finds "RAS-2 pump".
Results come in the listing's order (time, then id), so a search pages with the same
cursor and reads as the log does.
"""

from __future__ import annotations

import re
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

MAX_QUERY = 200
# A letter or digit: anything else alone (punctuation, spaces) has no word to look for.
_WORDLIKE = re.compile(r"[^\W_]")

# The query's words as prefix terms, all required: 'pump':* & 'ras-2':* & …
_TSQUERY = (
    "(SELECT coalesce(string_agg(quote_literal(w) || ':*', ' & '), '')::tsquery"
    " FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, %s))) w)"
)

# The first ``limit`` entries (in the listing's order) passing ``filters`` whose words or
# amendments' words match: each side one GIN index scan (0212) that reads its rows' times
# on the way, so a common word's thousands of matches are sorted, not joined or hashed,
# and only the page's ids go back to the listing. An entry comes at most twice (its own
# words, and once for its amendments), so the first 2 x ``limit`` rows hold the first
# ``limit`` entries, which the listing's own ORDER BY and LIMIT then take; checking an
# amendment's entry's words to keep it once cost more (a tsvector per amended entry).
# ``filters`` name the table ``e``, as the listing's do.
WITHIN = (
    "e.id IN (SELECT h.id FROM ("
    "SELECT e.id, e.occurred_at FROM entries e"
    " WHERE logbook_entry_words(e.data) @@ {q} AND {filters}"
    " UNION ALL SELECT DISTINCT e.id, e.occurred_at FROM amendments a"
    " JOIN entries e ON e.id = a.target_id"
    " WHERE a.target = 'entry' AND logbook_amendment_words(a.changes, a.reason) @@ {q}"
    " AND {filters}"
    ") h ORDER BY h.occurred_at, h.id LIMIT %s)"
)


class SearchRefused(ValueError):
    """A search that cannot be made, with why in words."""


def search_text(q: str) -> str:
    """The text to search for, trimmed; refused if empty, too long or without a word."""
    text = q.strip()
    if not text:
        raise SearchRefused("empty: give a word to search for")
    if len(text) > MAX_QUERY:
        raise SearchRefused(f"too long: at most {MAX_QUERY} characters ({len(text)} given)")
    if not _WORDLIKE.search(text):
        raise SearchRefused("no word to search for: give letters or digits")
    return text


def search_clause(
    q: str, filters: sql.Composable, params: list[Any], limit: int
) -> tuple[sql.Composable, list[Any]]:
    """The listing's WHERE clause (over ``entries e``) for a text search within the
    listing's other ``filters`` (with their ``params``), for a listing of at most ``limit``
    entries in (occurred_at, id) order, and its parameters."""
    text = search_text(q)
    clause = sql.SQL(WITHIN).format(q=sql.SQL(_TSQUERY), filters=filters)
    return clause, [text, *params, text, *params, 2 * limit]


def tag_clause(tag_id: int) -> tuple[sql.Composable, list[Any]]:
    """Entries about a tag: readings of it (as recorded or as amended) and
    acknowledgements of its alarms."""
    return (
        sql.SQL(
            "(e.data @> %s OR e.event_id IN (SELECT v.id FROM events v WHERE v.tag_id = %s)"
            " OR e.id IN (SELECT a.target_id FROM amendments a WHERE a.target = 'entry'"
            " AND a.changes @> %s))"
        ),
        [
            Jsonb({"tag_id": tag_id}),
            tag_id,
            Jsonb({"data": {"tag_id": tag_id}}),
        ],
    )
