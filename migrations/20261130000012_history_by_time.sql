-- Statistics over a window of event time (recovery rate, flows between sites).
CREATE INDEX cylinder_events_occurred ON cylinder_events (occurred_at);
