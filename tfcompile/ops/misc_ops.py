"""tf.roll, tf.searchsorted, tf.unravel_index, tf.random.categorical / tf.multinomial, tf.histogram_fixed_width (TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
