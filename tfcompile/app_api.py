"""TF 1.x's program plumbing: tf.app.flags / tf.flags, tf.gfile and tf.io.gfile,
tf.train.Coordinator and queue-runner entry points, tf.make_template and
friends (TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
