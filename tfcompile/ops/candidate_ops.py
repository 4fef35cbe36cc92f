"""Candidate sampling: samplers, nce_loss, sampled_softmax_loss (TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
