"""backfill stage of the tonewatch pipeline."""
