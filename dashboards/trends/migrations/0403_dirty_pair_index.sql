-- The refresh takes every mark of the (tag, hour) pairs it picks, so a backlog
-- (the web app stopped while ingest went on: one mark per tag per batch, every
-- second) is drained in one round per few hundred pairs, not one per mark.
CREATE INDEX rollup_dirty_pair ON rollup_dirty (tag_id, bucket_hour);
