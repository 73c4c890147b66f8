"""act stage of the tonewatch pipeline."""
