"""trajectory stage of the tonewatch pipeline."""
