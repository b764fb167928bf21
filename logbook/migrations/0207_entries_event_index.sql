-- Which alarms have been acknowledged: the floor terminal asks for the entries of a
-- set of events on every refresh, and an alarm left open for months would otherwise
-- widen that to a scan of the months of entries since it started.
CREATE INDEX entries_event ON entries (event_id) WHERE event_id IS NOT NULL;
