"""dashboard stage of the tonewatch pipeline."""
