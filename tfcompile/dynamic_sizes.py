"""Runs whose shapes depend on the data: tf.where with one argument (and what
is built on it, boolean_mask), and any op whose lowering asks
LoweringContext.data_size for a size.

Compiled code has static shapes, so such a run is compiled per size. A run
signature whose lowering raised DataDependentShape gets a DynamicPlan: the
sizes it needs, keyed (op, k), in the order lowering met them (`chain`); per
size and the sizes its probe's lowering used, a probe plan (the graph
tensors the size depends on, reduced to the size by compiled code); per
tuple of sizes, the final plan. Each run runs the probes in chain order,
then the final plan for the sizes they found.

A probe is a dry run: the variables it would write get copies and random
counters are not advanced, so the final plan computes the same values from
the same state (the generators are counter-based). The final plan computes
each size again and the run raises (a RunCheck) where one differs from the
probe's -- a read of a variable ordered differently against a write in the
two plans, which TF leaves unordered too -- instead of returning rows that
don't match their condition.
"""
from __future__ import annotations

import collections

from .errors import InvalidArgumentError
from .lowering import PROBE, DataDependentShape

MAX_SIZED_PLANS = 64     # final plans (and probes) kept per run signature


class DynamicPlan:
    """The plans of one run signature whose shapes depend on the data."""

    dynamic = True

    def __init__(self, sess, fetch_tensors, targets):
        self.sess = sess
        self.fetch_tensors = list(fetch_tensors)
        self.targets = list(targets)
        self.chain = []            # size keys (op, k), in the order lowering met them
        self.probe_of = {}         # key -> (graph tensors, size_fn)
        self.probe_uses = {}       # key -> the keys whose sizes its probe was compiled with
        self.probes = {}           # (key, those sizes) -> compiled probe
        self.plans = collections.OrderedDict()   # sizes -> final plan, least recent first

    def resolve(self, feeds):
        """The final plan for this run's data: probes first, compiling what is new."""
        sizes = {}
        i = 0
        while True:
            for key in self.chain[i:]:
                sizes[key] = self._probe(key, sizes, feeds)
            i = len(self.chain)
            tup = tuple(sizes[key] for key in self.chain)
            plan = self.plans.get(tup)
            if plan is not None:
                self.plans.move_to_end(tup)
                return plan
            try:
                plan = self.sess._compile(self.fetch_tensors, self.targets, feeds, sizes=sizes)
            except DataDependentShape as e:
                if e.key in self.probe_of:    # a size given was not used: a lowering bug
                    raise
                self.chain.append(e.key)
                self.probe_of[e.key] = (e.inputs, e.size_fn, e.count, e.nonneg)
                continue
            plan.dynamic = True
            self.plans[tup] = plan
            if len(self.plans) > MAX_SIZED_PLANS:
                self.plans.popitem(last=False)
            return plan

    def _probe(self, key, sizes, feeds):
        uses = self.probe_uses.get(key)
        plan = None if uses is None else self.probes.get((key, *(sizes[k] for k in uses)))
        inputs, size_fn, count, nonneg = self.probe_of[key]
        if plan is None:
            plan = self.sess._compile(inputs, [], feeds, sizes=dict(sizes), probe=size_fn)
            uses = self.probe_uses[key] = plan.sizes_used
            if len(self.probes) >= MAX_SIZED_PLANS:
                self.probes.clear()
            self.probes[(key, *(sizes[k] for k in uses))] = plan
        values = self.sess._execute(plan, feeds, dry=True)
        v = values[id(PROBE)]
        n = int(v) if count is None else tuple(int(x) for x in v.ravel())
        if nonneg and n < 0:
            op = key[0]
            raise InvalidArgumentError(None, op, f"{op.name} ({op.type}): a size computed "
                                       f"from its inputs is negative ({n})")
        return n


def check_run(plan, values):
    """Raises InvalidArgumentError for the first of the plan's run checks that
    failed (their results are taken out of `values`). A check's result is a
    bool, or an i64 vector [ok, details...] whose details its message (then a
    function) formats."""
    failed = None
    for check in plan.run_checks:
        v = values.pop(id(check))
        ok = bool(v) if v.ndim == 0 else bool(v[0])
        if not ok and failed is None:
            failed = (check, v)
    if failed is not None:
        check, v = failed
        msg = check.message(v[1:]) if callable(check.message) else check.message
        raise check.error(None, check.op, msg)

