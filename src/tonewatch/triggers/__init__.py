"""triggers stage of the tonewatch pipeline."""
