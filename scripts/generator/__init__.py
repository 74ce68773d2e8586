"""scripts/generate.py's own modules: the spec's facts (facts.py) and the changelog."""
