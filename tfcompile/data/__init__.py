"""tf.data: datasets, iterators (TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches tf.data (and the iterator names) to the tfcompile module `tf`."""
