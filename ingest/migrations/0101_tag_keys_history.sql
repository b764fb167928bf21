-- Which configuration entry each tag came from, so that renaming a tag in the
-- site configuration renames its row (keeping its readings) instead of creating
-- a new tag. The key is the tag's explicit `id:` when it has one, otherwise
-- where it is read: 'modbus:<device>/<register>/<address>' or
-- 'opcua:<server>/<node id>'. Moving a tag without an `id:` to another address
-- therefore makes it a new tag; give it an `id:` to move it and keep its history.
CREATE TABLE ingest_tag_keys (
    tag_id      integer PRIMARY KEY REFERENCES tags (id),
    site_id     integer NOT NULL REFERENCES sites (id),
    key         text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, key)
);

-- What changed about a tag and when: renames, unit and description changes,
-- address moves, limits, retirement. One row per field changed.
CREATE TABLE tag_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag_id      integer NOT NULL REFERENCES tags (id),
    changed_at  timestamptz NOT NULL DEFAULT now(),
    field       text NOT NULL,
    old_value   text,
    new_value   text,
    source      text NOT NULL DEFAULT ''
);
CREATE INDEX tag_history_tag ON tag_history (tag_id, changed_at DESC);
