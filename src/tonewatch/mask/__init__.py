"""mask stage of the tonewatch pipeline."""
