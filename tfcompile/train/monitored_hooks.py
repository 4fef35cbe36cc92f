"""The session-run hook protocol and TF 1.15's basic hooks: SessionRunHook,
SessionRunArgs / SessionRunContext / SessionRunValues, SecondOrStepTimer,
StopAtStepHook, LoggingTensorHook, NanTensorHook, FinalOpsHook, FeedFnHook, and
the per-directory summary writer cache. The hooks that write files are in
monitored_savers.py."""
from __future__ import annotations

import collections
import logging
import os
import threading
import time

import numpy as np

from ..graph import Tensor, get_default_graph

_log = logging.getLogger("tfcompile")    # the logger behind tf.logging


class NanLossDuringTrainingError(RuntimeError):
    def __str__(self):
        return "NaN loss during training."


# ---------------------------------------------------------------- the protocol

class SessionRunHook:
    """Hooks into MonitoredSession: begin, after_create_session, before_run,
    after_run and end, each a no-op here."""

    def begin(self):
        pass

    def after_create_session(self, session, coord):
        pass

    def before_run(self, run_context):
        return None

    def after_run(self, run_context, run_values):
        pass

    def end(self, session):
        pass


class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What a hook adds to the next run: fetches, feeds (and run options)."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunValues(collections.namedtuple("SessionRunValues",
                                              ["results", "options", "run_metadata"])):
    """The values of a hook's fetches after the run."""


class SessionRunContext:
    """The run a hook is called around: the caller's args, the session, and a
    way to ask the monitored session to stop after this run."""

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self):
        return self._original_args

    @property
    def session(self):
        return self._session

    @property
    def stop_requested(self):
        return self._stop_requested

    def request_stop(self):
        self._stop_requested = True


# ---------------------------------------------------------------- timers

class SecondOrStepTimer:
    """Triggers every `every_secs` seconds or every `every_steps` steps."""

    def __init__(self, every_secs=None, every_steps=None):
        if (every_secs is None) == (every_steps is None):
            raise ValueError("exactly one of every_secs and every_steps should be provided.")
        self._every_secs, self._every_steps = every_secs, every_steps
        self.reset()

    def reset(self):
        self._last_time = self._last_step = None

    def should_trigger_for_step(self, step):
        if self._last_step is None:
            return True
        if self._last_step == step:
            return False
        if self._every_secs is not None and time.time() >= self._last_time + self._every_secs:
            return True
        return self._every_steps is not None and step >= self._last_step + self._every_steps

    def update_last_triggered_step(self, step):
        """Records a trigger at `step`; returns (seconds, steps) since the last one."""
        now = time.time()
        if self._last_time is None:
            elapsed = (None, None)
        else:
            elapsed = (now - self._last_time, step - self._last_step)
        self._last_time, self._last_step = now, step
        return elapsed

    def last_triggered_step(self):
        return self._last_step


def _timer(secs, steps, what):
    if (secs is None) == (steps is None):
        raise ValueError(f"exactly one of every_n_secs and every_n_steps should be provided "
                         f"to {what} (got save_secs={secs}, save_steps={steps}).")
    return SecondOrStepTimer(every_secs=secs, every_steps=steps)


def _global_step_or_fail(what):
    """The global step's read tensor (`global_step/add:0`, made once per graph as
    TF does): read before the run's own increment, so `value + 1` is the step
    after the run."""
    from .training_util import GLOBAL_STEP_READ_KEY, get_global_step
    g = get_default_graph()
    found = g.get_collection(GLOBAL_STEP_READ_KEY)
    if found:
        return found[0]
    step = get_global_step(g)
    if step is None:
        raise RuntimeError(f"Global step should be created to use {what}.")
    with g.name_scope(None), g.name_scope(step.op.name + "/"):
        read = step.value() + 0 if hasattr(step, "value") else step + 0
    g.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    return read


# ---------------------------------------------------------------- summary writers

class FileWriterCache:
    """One FileWriter per directory, shared by the hooks writing there."""

    _cache = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir):
        from ..summary import FileWriter
        key = os.path.abspath(os.fspath(logdir))
        with FileWriterCache._lock:
            w = FileWriterCache._cache.get(key)
            if w is None:
                w = FileWriterCache._cache[key] = FileWriter(key, graph=get_default_graph())
            else:
                w.reopen()
            return w

    @staticmethod
    def clear():
        with FileWriterCache._lock:
            for w in FileWriterCache._cache.values():
                w.close()
            FileWriterCache._cache.clear()


# ---------------------------------------------------------------- the hooks

class StopAtStepHook(SessionRunHook):
    """Requests a stop once the global step reaches last_step (or num_steps past
    the step at session creation)."""

    def __init__(self, num_steps=None, last_step=None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps, self._last_step = num_steps, last_step

    def begin(self):
        self._global_step_tensor = _global_step_or_fail("StopAtStepHook")

    def after_create_session(self, session, coord):
        if self._last_step is None:
            self._last_step = int(session.run(self._global_step_tensor)) + self._num_steps

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step_tensor)

    def after_run(self, run_context, run_values):
        # the fetched value is the step before this run's increment
        if int(run_values.results) + 1 >= self._last_step:
            step = int(run_context.session.run(self._global_step_tensor))
            if step >= self._last_step:
                run_context.request_stop()


def _as_tensor(t, graph):
    return t if isinstance(t, Tensor) else graph.as_graph_element(t)


class LoggingTensorHook(SessionRunHook):
    """Logs (at INFO) the given tensors every N local steps or N seconds, and
    optionally at the end."""

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        only_log_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_log_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("either at_end and/or exactly one of every_n_iter and "
                             "every_n_secs must be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if isinstance(tensors, dict):
            self._tag_order = sorted(tensors.keys())
        else:
            self._tag_order = [t if isinstance(t, str) else t.name for t in tensors]
            tensors = {tag: t for tag, t in zip(self._tag_order, tensors)}
        self._tensors = tensors
        self._formatter = formatter
        self._log_at_end = at_end
        self._timer = None if only_log_at_end else SecondOrStepTimer(
            every_secs=every_n_secs, every_steps=every_n_iter)

    def begin(self):
        if self._timer is not None:
            self._timer.reset()
        self._iter_count = 0
        g = get_default_graph()
        self._current_tensors = {tag: _as_tensor(t, g) for tag, t in self._tensors.items()}

    def before_run(self, run_context):
        self._should_trigger = self._timer is not None and \
            self._timer.should_trigger_for_step(self._iter_count)
        return SessionRunArgs(self._current_tensors) if self._should_trigger else None

    def _log_tensors(self, values):
        original = np.get_printoptions()
        np.set_printoptions(suppress=True)
        try:
            elapsed, _ = self._timer.update_last_triggered_step(self._iter_count) \
                if self._timer is not None else (None, None)
            if self._formatter:
                _log.info(self._formatter(values))
            else:
                stats = ", ".join(f"{tag} = {values[tag]}" for tag in self._tag_order)
                if elapsed is not None:
                    _log.info("%s (%.3f sec)", stats, elapsed)
                else:
                    _log.info("%s", stats)
        finally:
            np.set_printoptions(**original)

    def after_run(self, run_context, run_values):
        if self._should_trigger:
            self._log_tensors(run_values.results)
        self._iter_count += 1

    def end(self, session):
        if self._log_at_end:
            self._log_tensors(session.run(self._current_tensors))


class NanTensorHook(SessionRunHook):
    """Raises NanLossDuringTrainingError (or only asks to stop) when the loss is NaN."""

    def __init__(self, loss_tensor, fail_on_nan_loss=True):
        self._loss_tensor = loss_tensor
        self._fail_on_nan_loss = fail_on_nan_loss

    def before_run(self, run_context):
        return SessionRunArgs(self._loss_tensor)

    def after_run(self, run_context, run_values):
        if np.isnan(run_values.results).any():
            failure_message = "Model diverged with loss = NaN."
            if self._fail_on_nan_loss:
                _log.error(failure_message)
                raise NanLossDuringTrainingError
            _log.warning(failure_message)
            run_context.request_stop()


class FinalOpsHook(SessionRunHook):
    """Runs final_ops (with final_ops_feed_dict) at the end; their values are
    final_ops_values."""

    def __init__(self, final_ops, final_ops_feed_dict=None):
        self._final_ops = final_ops
        self._final_ops_feed_dict = final_ops_feed_dict
        self._final_ops_values = None

    @property
    def final_ops_values(self):
        return self._final_ops_values

    def end(self, session):
        if self._final_ops is not None:
            self._final_ops_values = session.run(self._final_ops,
                                                 feed_dict=self._final_ops_feed_dict)


class FeedFnHook(SessionRunHook):
    """Adds feed_fn()'s feeds to every run."""

    def __init__(self, feed_fn):
        self.feed_fn = feed_fn

    def before_run(self, run_context):
        return SessionRunArgs(fetches=None, feed_dict=self.feed_fn())
