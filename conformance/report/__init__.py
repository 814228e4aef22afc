"""Reports of a run: results.json (the certification record), HTML and JUnit additions."""
