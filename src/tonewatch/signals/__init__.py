"""signals stage of the tonewatch pipeline."""
