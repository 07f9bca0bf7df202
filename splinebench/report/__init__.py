"""Reports: the paper's tables (and later figures) built from the store alone."""
