"""Files shipped with the distribution: the bundled CPU model and its model card."""
