"""ingest stage of the tonewatch pipeline."""
