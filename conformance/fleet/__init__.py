"""A fleet of endpoints: run from a manifest (one process and report folder each, in shards), merged into one report."""
