-- When each device last sent events (moved at most every 10 s by ingest): device_silent.
ALTER TABLE devices ADD COLUMN last_seen_at timestamptz;
