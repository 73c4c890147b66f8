"""streams stage of the tonewatch pipeline."""
