"""learn stage of the tonewatch pipeline."""
