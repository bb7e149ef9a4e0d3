"""Demo collectivité generator (filled in step by step; see generate.py)."""
