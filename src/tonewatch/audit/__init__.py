"""audit stage of the tonewatch pipeline."""
