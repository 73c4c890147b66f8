"""api stage of the tonewatch pipeline."""
