"""outcomes stage of the tonewatch pipeline."""
