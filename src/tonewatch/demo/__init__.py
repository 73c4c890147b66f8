"""demo stage of the tonewatch pipeline."""
