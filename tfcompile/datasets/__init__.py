"""Data sets for the examples."""
