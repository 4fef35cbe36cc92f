"""Optimization passes over the IR, one per file."""
