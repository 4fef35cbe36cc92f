"""tf.train.MonitoredTrainingSession, MonitoredSession, SingularMonitoredSession,
Scaffold and ChiefSessionCreator (TF 1.15 names and semantics); the hooks are in
monitored_hooks.py."""
from __future__ import annotations

import logging

from ..errors import OutOfRangeError
from ..graph import GraphKeys, get_default_graph
from . import monitored_hooks as _hooks
from . import monitored_savers as _savers
from .monitored_hooks import SessionRunArgs, SessionRunContext, SessionRunValues

_log = logging.getLogger("tfcompile")
_USE_DEFAULT = object()


# ---------------------------------------------------------------- scaffold

class Scaffold:
    """The ops that build and initialize a model (init_op, ready_op,
    local_init_op, summary_op, saver); finalize() fills the missing ones with
    TF's defaults and finalizes the graph."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None,
                 saver=None, copy_from_scaffold=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")
            c = copy_from_scaffold
            init_op = init_op if init_op is not None else c.init_op
            init_feed_dict = init_feed_dict or c._init_feed_dict
            init_fn = init_fn or c._user_init_fn
            ready_op = ready_op if ready_op is not None else c.ready_op
            local_init_op = local_init_op if local_init_op is not None else c.local_init_op
            summary_op = summary_op if summary_op is not None else c.summary_op
            saver = saver if saver is not None else c.saver
        self._init_op, self._init_feed_dict = init_op, init_feed_dict
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._ready_op, self._ready_for_local_init_op = ready_op, ready_for_local_init_op
        self._local_init_op, self._summary_op, self._saver = local_init_op, summary_op, saver

    @staticmethod
    def get_or_default(arg_name, collection_key, default_constructor):
        """The single element of the collection, or default_constructor()'s
        value, which is then added to it."""
        elements = get_default_graph().get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f"More than one item in the collection {collection_key}. "
                                   f"Please indicate which one to use by passing it to the "
                                   f"tf.Scaffold constructor as:  tf.Scaffold({arg_name}="
                                   f"item to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            get_default_graph().add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        from ..app_graph import tables_initializer
        from ..ops.control_flow import group
        from ..variables import local_variables_initializer
        return group(local_variables_initializer(), tables_initializer())

    def finalize(self):
        from ..summary import merge_all
        from ..variables import global_variables_initializer, report_uninitialized_variables
        from .saver import Saver
        g = get_default_graph()
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default(
                "init_op", GraphKeys.INIT_OP, global_variables_initializer)
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default(
                "ready_op", GraphKeys.READY_OP, report_uninitialized_variables)
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default(
                "local_init_op", GraphKeys.LOCAL_INIT_OP, Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default(
                "summary_op", GraphKeys.SUMMARY_OP, merge_all)
        if self._saver is None:
            self._saver = Scaffold.get_or_default(
                "saver", GraphKeys.SAVERS,
                lambda: Saver(sharded=True, allow_empty=True, write_version=2))
        g.finalize()
        _log.info("Graph was finalized.")
        return self

    init_op = property(lambda self: self._init_op)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    init_fn = property(lambda self: self._init_fn)


# ---------------------------------------------------------------- session creators

class SessionCreator:
    """Makes a ready tf.Session for a MonitoredSession."""

    def create_session(self):
        raise NotImplementedError("create_session is not implemented for "
                                  f"{type(self).__name__}.")


class ChiefSessionCreator(SessionCreator):
    """Creates a session, then restores the latest checkpoint of checkpoint_dir
    (or checkpoint_filename_with_path) or runs the scaffold's init_op and init_fn;
    then runs local_init_op and checks the model is ready."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        self._scaffold = scaffold or Scaffold()
        self._master, self._config = master, config
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path

    def create_session(self):
        from ..session import Session
        from .saver import latest_checkpoint
        s = self._scaffold.finalize()
        sess = Session(self._master, graph=get_default_graph(), config=self._config)
        path = self._checkpoint_filename_with_path
        if path is None and self._checkpoint_dir:
            path = latest_checkpoint(self._checkpoint_dir)
        if path is not None:
            s.saver.restore(sess, path)
            if self._checkpoint_filename_with_path is None:
                # later saves count the restored run's checkpoints against max_to_keep
                from .saver import get_checkpoint_state
                state = get_checkpoint_state(self._checkpoint_dir)
                s.saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
        else:
            if s.init_op is not None:
                sess.run(s.init_op, feed_dict=s.init_feed_dict)
            if s.init_fn is not None:
                s.init_fn(sess)
        if s.local_init_op is not None:
            sess.run(s.local_init_op)
        if s.ready_op is not None:
            not_ready = sess.run(s.ready_op)
            if getattr(not_ready, "size", 0):
                sess.close()
                names = ", ".join(x.decode() if isinstance(x, bytes) else str(x)
                                  for x in not_ready.ravel())
                raise RuntimeError("Init operations did not make model ready.  "
                                   f"Init op: {getattr(s.init_op, 'name', None)}, init fn: "
                                   f"{s.init_fn}, error: Variables not initialized: {names}")
        return sess


# ---------------------------------------------------------------- monitored sessions

class _StopRequested(Exception):
    """Raised by StepContext.request_stop to leave a run_step_fn."""


class _MonitoredSession:
    """The shared body of MonitoredSession and SingularMonitoredSession."""

    class StepContext:
        """What run_step_fn's function gets: the raw session, run_with_hooks
        and request_stop."""

        def __init__(self, session, run_with_hooks_fn):
            self._session, self._run_with_hooks_fn = session, run_with_hooks_fn

        @property
        def session(self):
            return self._session

        def run_with_hooks(self, *args, **kwargs):
            return self._run_with_hooks_fn(*args, **kwargs)

        def request_stop(self):
            raise _StopRequested()

    def __init__(self, session_creator, hooks, stop_grace_period_secs=120):
        from ..app_coord import Coordinator
        self._hooks = list(hooks or [])
        for h in self._hooks:
            h.begin()
        self._graph = get_default_graph()
        self._stop_grace_period_secs = stop_grace_period_secs
        self._sess = (session_creator or ChiefSessionCreator()).create_session()
        self._coord = Coordinator()
        self._should_stop = False
        for h in self._hooks:
            h.after_create_session(self._sess, self._coord)

    @property
    def graph(self):
        return self._graph

    def _tf_sess(self):
        return self._sess

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs fetches with every hook's extra fetches and feeds in the same
        Session.run; returns only the caller's fetches."""
        if self._sess is None:
            raise RuntimeError("Session is already closed.")
        if self._should_stop:
            raise RuntimeError("Run called even after should_stop requested.")
        context = SessionRunContext(SessionRunArgs(fetches, feed_dict), self._sess)
        actual = {"caller": fetches}
        hook_feeds = {}
        for h in self._hooks:
            request = h.before_run(context)
            if request is None:
                continue
            if request.fetches is not None:
                actual[h] = request.fetches
            if request.feed_dict:
                _check_feed_conflict(hook_feeds, request.feed_dict, "Same tensor is fed by "
                                     "two hooks.")
                hook_feeds.update(request.feed_dict)
        if hook_feeds and feed_dict:
            _check_feed_conflict(feed_dict, hook_feeds, "Same tensor is fed by a "
                                 "SessionRunHook and user.")
        merged = {**(feed_dict or {}), **hook_feeds} if hook_feeds else feed_dict
        outputs = self._sess.run(actual, feed_dict=merged, options=options,
                                 run_metadata=run_metadata)
        for h in self._hooks:
            h.after_run(context, SessionRunValues(results=outputs.get(h), options=options,
                                                  run_metadata=run_metadata))
        self._should_stop = self._should_stop or context.stop_requested
        return outputs["caller"]

    def run_step_fn(self, step_fn):
        """Calls step_fn(step_context); a step_context.request_stop() inside it
        ends the step and makes should_stop() True."""
        import inspect
        params = list(inspect.signature(step_fn).parameters)
        if params and params[0] == "self":
            params = params[1:]
        if params != ["step_context"]:
            raise ValueError("`step_fn` may either have one `step_context` argument, or "
                             "`self` and `step_context` arguments if it's an instance "
                             f"method. Got {params} instead.")
        try:
            return step_fn(self.StepContext(self._sess, self.run))
        except _StopRequested:
            self._should_stop = True
            return None

    def should_stop(self):
        return self._sess is None or self._should_stop or self._coord.should_stop()

    def close(self):
        self._close_internal(None)

    def _close_internal(self, exception_type):
        if self._sess is None:
            return
        try:
            if exception_type is None:
                for h in self._hooks:
                    h.end(self._sess)
        finally:
            try:
                self._coord.request_stop()
                self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs)
            finally:
                self._sess.close()
                self._sess = None

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        # running out of data ends training cleanly, as in TF
        if exception_type in (OutOfRangeError, StopIteration) or (
                exception_type is not None and issubclass(exception_type, OutOfRangeError)):
            exception_type = None
        self._close_internal(exception_type)
        return exception_type is None


def _check_feed_conflict(feeds, new_feeds, message):
    conflicts = [getattr(k, "name", str(k)) for k in new_feeds if k in feeds]
    if conflicts:
        raise RuntimeError(f"{message} Conflict(s): {conflicts}")


class MonitoredSession(_MonitoredSession):
    """A session that initializes or restores the model, calls the hooks
    around each run and closes cleanly (tf.train.MonitoredSession)."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super().__init__(session_creator, hooks, stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """A MonitoredSession over a ChiefSessionCreator, with raw_session()."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None,
                 checkpoint_dir=None, stop_grace_period_secs=120,
                 checkpoint_filename_with_path=None):
        creator = ChiefSessionCreator(
            scaffold=scaffold, master=master, config=config, checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks, stop_grace_period_secs)

    def raw_session(self):
        return self._tf_sess()


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None,  # noqa: N802
                             scaffold=None, hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=_USE_DEFAULT,
                             save_summaries_steps=_USE_DEFAULT,
                             save_summaries_secs=_USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100,
                             max_wait_secs=7200, save_checkpoint_steps=_USE_DEFAULT,
                             summary_dir=None):
    """A MonitoredSession for training: the chief initializes or restores from
    checkpoint_dir and gets summary (default every 100 steps) and checkpoint
    (default every 600 s) saving hooks."""
    if save_summaries_steps is _USE_DEFAULT and save_summaries_secs is _USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    save_summaries_steps = None if save_summaries_steps is _USE_DEFAULT else save_summaries_steps
    save_summaries_secs = None if save_summaries_secs is _USE_DEFAULT else save_summaries_secs
    if save_checkpoint_steps is _USE_DEFAULT and save_checkpoint_secs is _USE_DEFAULT:
        save_checkpoint_steps, save_checkpoint_secs = None, 600
    save_checkpoint_steps = None if save_checkpoint_steps is _USE_DEFAULT \
        else save_checkpoint_steps
    save_checkpoint_secs = None if save_checkpoint_secs is _USE_DEFAULT \
        else save_checkpoint_secs
    if not is_chief:
        # a worker waits for a chief elsewhere to initialize the model; this
        # engine runs in one process, so there is none to wait for
        raise ValueError("MonitoredTrainingSession(is_chief=False) needs a separate chief "
                         "process, which this single-process engine does not have.")
    scaffold = scaffold or Scaffold()
    all_hooks = list(chief_only_hooks or []) + list(hooks or [])
    creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir,
                                  master=master, config=config)
    summary_dir = summary_dir or checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(_savers.StepCounterHook(output_dir=summary_dir,
                                                     every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or (
                save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(_savers.SummarySaverHook(
                scaffold=scaffold, save_steps=save_summaries_steps,
                save_secs=save_summaries_secs, output_dir=summary_dir))
    if checkpoint_dir:
        if (save_checkpoint_secs and save_checkpoint_secs > 0) or (
                save_checkpoint_steps and save_checkpoint_steps > 0):
            all_hooks.append(_savers.CheckpointSaverHook(
                checkpoint_dir, save_steps=save_checkpoint_steps,
                save_secs=save_checkpoint_secs, scaffold=scaffold))
    return MonitoredSession(session_creator=creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)


def install(tf):
    """Attaches this module's public names to tf.train (and tf)."""
    for name in ("SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues",
                 "SecondOrStepTimer", "StopAtStepHook", "LoggingTensorHook", "NanTensorHook",
                 "NanLossDuringTrainingError", "FinalOpsHook", "FeedFnHook"):
        setattr(tf.train, name, getattr(_hooks, name))
    for name in ("CheckpointSaverHook", "CheckpointSaverListener", "SummarySaverHook",
                 "StepCounterHook"):
        setattr(tf.train, name, getattr(_savers, name))
    for name, obj in (("Scaffold", Scaffold), ("SessionCreator", SessionCreator),
                      ("ChiefSessionCreator", ChiefSessionCreator),
                      ("MonitoredSession", MonitoredSession),
                      ("SingularMonitoredSession", SingularMonitoredSession),
                      ("MonitoredTrainingSession", MonitoredTrainingSession)):
        setattr(tf.train, name, obj)
    if not hasattr(tf.summary, "FileWriterCache"):
        tf.summary.FileWriterCache = _hooks.FileWriterCache
