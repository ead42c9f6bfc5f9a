"""The inversion job end to end: cached stages, result files, reopening and scoring results."""
