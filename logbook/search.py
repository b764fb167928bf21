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

# The ids of a site's entries (or every site's) whose words or amendments' words match;
# each side is one GIN index scan (0212), whatever the other filters.
MATCHING = sql.SQL(
    "e.id IN (SELECT m.id FROM entries m WHERE logbook_entry_words(m.data) @@ {q}"
    " UNION SELECT a.target_id FROM amendments a WHERE a.target = 'entry'"
    " AND logbook_amendment_words(a.changes, a.reason) @@ {q})"
).format(q=sql.SQL(_TSQUERY))


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


def search_clause(q: str) -> tuple[sql.Composable, list[Any]]:
    """The listing's WHERE clause (over ``entries e``) for a text search, and its
    parameters: the text twice, for the entries' words and the amendments'."""
    text = search_text(q)
    return MATCHING, [text, text]


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
