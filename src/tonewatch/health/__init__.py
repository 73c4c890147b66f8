"""health stage of the tonewatch pipeline."""
