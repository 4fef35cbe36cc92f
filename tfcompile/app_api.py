"""TF 1.x's program plumbing: tf.app.flags / tf.flags, tf.gfile and tf.io.gfile,
tf.train.Coordinator and queue-runner entry points, tf.make_template and
friends (TF 1.15 names and semantics).

The pieces live in sibling modules: app_flags (flags and tf.app.run),
app_gfile (files), app_coord (Coordinator, start_queue_runners) and app_graph
(identity_n, tables_initializer, templates, initialization reports); this
module attaches them to `tf`."""
from __future__ import annotations

from . import app_coord, app_flags, app_gfile, app_graph


def install(tf):
    """Attaches this module's public names to the tfcompile module `tf` (and its namespaces)."""
    from .session import HOST_OPS
    HOST_OPS.update(app_graph.HOST_FNS)

    tf.flags = app_flags
    tf.app.flags = app_flags
    tf.app.run = app_flags.run

    tf.gfile = app_gfile.gfile_v1()
    tf.io.gfile = app_gfile.gfile_v2()

    tf.train.Coordinator = app_coord.Coordinator
    tf.train.start_queue_runners = app_coord.start_queue_runners
    tf.start_queue_runners = app_coord.start_queue_runners

    for name in ("identity_n", "tables_initializer", "make_template",
                 "report_uninitialized_variables", "assert_variables_initialized"):
        setattr(tf, name, getattr(app_graph, name))
    if hasattr(tf, "initializers"):
        tf.initializers.tables_initializer = app_graph.tables_initializer
