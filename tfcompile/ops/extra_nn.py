"""More layers and ops: 1-D convolution and pooling layers, tf.nn.pool,
random_crop, tf.hessians, tf.custom_gradient (TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
