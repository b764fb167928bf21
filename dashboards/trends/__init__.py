"""Trends: readings downsampled for charts, live readings, log entries on the time axis,
and the per-minute and per-hour rollups they read (with their migrations)."""
