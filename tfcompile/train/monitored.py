"""tf.train.MonitoredTrainingSession, MonitoredSession and the session-run hooks
(TF 1.15 names and semantics)."""
from __future__ import annotations


def install(tf):
    """Attaches this module's public names to tf.train (and tf)."""
