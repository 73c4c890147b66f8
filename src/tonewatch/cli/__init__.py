"""cli stage of the tonewatch pipeline."""
