"""Synthetic regions: native records for the whole pipeline, and the indicators' ground truth."""
