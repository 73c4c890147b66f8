"""review stage of the tonewatch pipeline."""
