"""Data quality: rules as data, counters kept at intake, per-institution reports through every door."""
