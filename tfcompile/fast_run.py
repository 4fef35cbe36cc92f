"""The shortcut of a repeated Session.run: a run with the same fetches and
feeds (tensors, dtypes, shapes, layout) as an earlier one calls that run's
compiled plan directly, skipping the general path's work (see _FastRun)."""
from __future__ import annotations

import numpy as np

from .dynamic_sizes import check_run
from .graph import Tensor

_MISS = object()


class _FastRun:
    """The shortcut of a repeated run: the fetches of an earlier run whose feeds
    were numpy arrays of the placeholders' dtypes, C-contiguous, keyed by their
    tensors. A later run with feeds of the same tensors (in the same order),
    types, shapes and layout, and the same variable shapes, needs none of the
    general path's work (resolving feeds and fetches, converting and checking
    values, choosing the plan, building dicts): it checks each feed against
    what the plan was compiled for, calls the plan's bound runner and returns
    the results in the fetches' structure. Any difference returns _MISS, and
    the general path runs (and raises, for a bad feed, its usual errors)."""

    @staticmethod
    def make(sess, fetches, elements, plan, feed_dict):
        """The shortcut's function of feed_dict, or None where there is none."""
        specs = [(id(k), v.shape, np.dtype(k.dtype._np)) for k, v in feed_dict.items()]
        if any(v.dtype != dt for v, (_, _, dt) in zip(feed_dict.values(), specs)):
            return None
        tensors = [el for el in elements if type(el) is Tensor]
        epoch = sess._epoch
        checks = plan.run_checks
        call = plan.runner.caller([(i, shape) for i, shape, _ in specs],
                                  [id(t) for t in tensors] + [id(c) for c in checks],
                                  plan.lock, sess._storage, sess._rng_counters,
                                  sess._missing_variable, lambda: sess._epoch == epoch)
        if call is None:
            return None
        if checks:      # the plan's run checks come after the fetches: test, then drop
            call = _FastRun._checked(call, plan, len(tensors))
        pos = {id(t): n for n, t in enumerate(tensors)}
        # per element: (index into the call's arrays or None for an op, is it 0-d)
        scalar = [len(t.shape) == 0 for t in plan.result_types]
        at = {id(el): (pos[id(el)], scalar[pos[id(el)]]) if type(el) is Tensor else (None, False)
              for el in elements}
        # holds the fetches and fed tensors, so that their ids stay theirs
        held = (fetches if type(fetches) is Tensor else tuple(fetches), tuple(feed_dict))
        check = _FastRun._feed_check(specs)
        if type(fetches) is Tensor:
            is_scalar = at[id(fetches)][1]

            def run(feed_dict, _held=held):
                arrays = check(feed_dict)
                if arrays is None:
                    return _MISS
                out = call(arrays)
                if out is None:
                    return _MISS
                return out[()] if is_scalar else out
            return run
        template = [at[id(f)] for f in fetches]
        seq = type(fetches)
        single = len(tensors) == 1

        def run_seq(feed_dict, _held=held):
            arrays = check(feed_dict)
            if arrays is None:
                return _MISS
            outs = call(arrays)
            if outs is None:
                return _MISS
            if single:
                outs = (outs,)
            items = [None if i is None else (outs[i][()] if sc else outs[i])
                     for i, sc in template]
            return items if seq is list else seq(items)
        return run_seq

    @staticmethod
    def _checked(call, plan, n):
        checks = plan.run_checks

        def checked(arrays):
            outs = call(arrays)
            if outs is None:
                return None
            check_run(plan, {id(c): outs[n + i] for i, c in enumerate(checks)})
            return outs[0] if n == 1 else outs[:n]
        return checked

    @staticmethod
    def _feed_check(specs):
        """feed_dict -> the feeds' arrays in order, or None when they are not
        (all, and only) arrays of the compiled tensors, dtypes, shapes, layout."""
        ndarray = np.ndarray
        nfeeds = len(specs)
        if nfeeds == 1:
            (fid, shape, dt), = specs

            def check_one(feed_dict):
                if type(feed_dict) is not dict or len(feed_dict) != 1:
                    return None
                for key, v in feed_dict.items():
                    if id(key) != fid or type(v) is not ndarray or \
                            (v.dtype is not dt and v.dtype != dt) or v.shape != shape or \
                            not v.flags.c_contiguous:
                        return None
                    return (v,)
            return check_one

        def check(feed_dict):
            if type(feed_dict) is not dict:
                return () if feed_dict is None and nfeeds == 0 else None
            if len(feed_dict) != nfeeds:
                return None
            arrays = []
            for (key, v), (fid, shape, dt) in zip(feed_dict.items(), specs):
                if id(key) != fid or type(v) is not ndarray or \
                        (v.dtype is not dt and v.dtype != dt) or v.shape != shape or \
                        not v.flags.c_contiguous:
                    return None
                arrays.append(v)
            return arrays
        return check
