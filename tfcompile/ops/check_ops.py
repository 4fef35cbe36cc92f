"""Run-time checks: tf.assert_* (tf.debugging), tf.check_numerics, tf.print (TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
