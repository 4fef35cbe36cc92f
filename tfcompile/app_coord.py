"""tf.train.Coordinator (stopping a group of threads together, re-raising the
first error one of them reported) and tf.train.start_queue_runners."""
from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time

from .errors import OutOfRangeError

_log = logging.getLogger("tfcompile")


class Coordinator:
    """TF 1.15's Coordinator. An exception passed to request_stop (an exception
    or a sys.exc_info() tuple) is kept, the first one only, and re-raised by
    join() and raise_requested_exception(); clean_stop_exception_types
    (OutOfRangeError by default) stop without being reported."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (OutOfRangeError,)
        self._clean = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info = None
        self._joined = False
        self._registered = set()

    def _filter(self, ex):
        exc = ex[1] if isinstance(ex, tuple) else ex
        return None if isinstance(exc, self._clean) else ex

    def request_stop(self, ex=None):
        """Asks the threads to stop; `ex` (exception or exc_info tuple) is
        reported by join(). After join(), a reported error is raised here."""
        with self._lock:
            ex = self._filter(ex)
            if self._joined and ex is not None:
                raise self._as_exc_info(ex)[1]
            if not self._stop_event.is_set():
                if ex is not None and self._exc_info is None:
                    self._exc_info = self._as_exc_info(ex)
                    _log.info("Error reported to Coordinator: %r", self._exc_info[1])
                self._stop_event.set()

    @staticmethod
    def _as_exc_info(ex):
        if isinstance(ex, tuple):
            info = ex
        elif sys.exc_info()[1] is not None or not isinstance(ex, BaseException):
            info = sys.exc_info()      # TF keeps the exception being handled
        else:
            # outside an except block TF would report a ValueError; keeping
            # the exception given is more useful and otherwise the same
            info = (type(ex), ex, ex.__traceback__)
        if len(info) != 3 or not info[0] or not info[1]:
            err = ValueError("ex must be a tuple or sys.exc_info must return the current "
                             f"exception: {info}")
            info = (ValueError, err, None)
        return info

    def clear_stop(self):
        with self._lock:
            self._joined = False
            self._exc_info = None
            self._stop_event.clear()

    def should_stop(self):
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """Any exception in the block is reported through request_stop."""
        try:
            yield
        except:  # noqa: E722 - TF reports every exception, SystemExit included
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None):
        return self._stop_event.wait(timeout)

    def register_thread(self, thread):
        with self._lock:
            self._registered.add(thread)

    @property
    def joined(self):
        return self._joined

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits until the threads end or a stop is requested, then gives the
        live ones stop_grace_period_secs; re-raises a reported exception, else
        RuntimeError naming threads still running (unless ignore_live_threads)."""
        with self._lock:
            threads = list(self._registered if threads is None
                           else self._registered.union(threads))
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        for t in threads:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            t.join(left)
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered = set()
            if self._exc_info:
                raise self._exc_info[1].with_traceback(self._exc_info[2])
            if stragglers:
                if ignore_live_threads:
                    _log.info("Coordinator stopped with threads still running: %s",
                              " ".join(stragglers))
                else:
                    raise RuntimeError("Coordinator stopped with threads still running: "
                                       + " ".join(stragglers))

    def raise_requested_exception(self):
        with self._lock:
            if self._exc_info:
                raise self._exc_info[1].with_traceback(self._exc_info[2])

    def loop(self, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a thread calling target(*args, **kwargs) every interval until a stop."""
        def body():
            with self.stop_on_exception():
                while not self.should_stop():
                    target(*(args or ()), **(kwargs or {}))
                    if timer_interval_secs is None or self.wait_for_stop(timer_interval_secs):
                        break
        t = threading.Thread(target=body, daemon=True)
        self.register_thread(t)
        t.start()
        return t


def start_queue_runners(sess=None, coord=None, daemon=True, start=True,
                        collection="queue_runners"):
    """Starts the threads of the queue runners in `collection`; returns them.
    The project defines no queue runners, so the list is normally empty."""
    from .graph import get_collection
    from .session import BaseSession, get_default_session
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "tf.start_queue_runners(sess=sess)")
    if not isinstance(sess, BaseSession) and not hasattr(sess, "run"):
        raise TypeError(f"sess must be a `tf.Session` object. Given class: {sess.__class__}")
    with sess.graph.as_default():
        threads = []
        for qr in get_collection(collection):
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
