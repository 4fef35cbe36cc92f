"""Variable updates by index: tf.scatter_update/add/sub/mul/div/min/max, tf.scatter_nd_update/add/sub (TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
