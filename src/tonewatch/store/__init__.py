"""store stage of the tonewatch pipeline."""
