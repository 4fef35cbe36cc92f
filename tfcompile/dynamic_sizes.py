"""Runs whose shapes depend on the data: tf.where with one argument, and what
is built on it (boolean_mask).

Compiled code has static shapes, so such a run is compiled per size. A run
signature whose lowering raised DataDependentShape gets a DynamicPlan: the
ops that need a size, in the order lowering met them (`chain`); per op and
sizes known before it, a probe plan (the op's input, its nonzero elements
counted by compiled code); per tuple of sizes, the final plan. Each run runs
the probes in chain order, then the final plan for the sizes they found.

A probe is a dry run: the variables it would write get copies and random
counters are not advanced, so the final plan computes the same values from
the same state (the generators are counter-based). The final plan returns
the size it computes itself beside the fetches; where that differs from the
probe's (a read of a variable ordered differently against a write in the
two plans, which TF leaves unordered too) the run raises instead of
returning rows that don't match their condition.
"""
from __future__ import annotations

import collections

from .errors import InvalidArgumentError
from .lowering import DataDependentShape

MAX_SIZED_PLANS = 64     # final plans (and probes) kept per run signature


class DynamicPlan:
    """The plans of one run signature whose shapes depend on the data."""

    dynamic = True

    def __init__(self, sess, fetch_tensors, targets):
        self.sess = sess
        self.fetch_tensors = list(fetch_tensors)
        self.targets = list(targets)
        self.chain = []            # ops needing a size, in the order lowering met them
        self.probe_of = {}         # op -> the tensor whose nonzero count is its size
        self.probe_uses = {}       # op -> the ops whose sizes its probe was compiled with
        self.probes = {}           # (op, those sizes) -> compiled probe
        self.plans = collections.OrderedDict()   # sizes -> final plan, least recent first

    def resolve(self, feeds):
        """The final plan for this run's data: probes first, compiling what is new."""
        sizes = {}
        i = 0
        while True:
            for op in self.chain[i:]:
                sizes[op] = self._probe(op, sizes, feeds)
            i = len(self.chain)
            key = tuple(sizes[op] for op in self.chain)
            plan = self.plans.get(key)
            if plan is not None:
                self.plans.move_to_end(key)
                return plan
            try:
                plan = self.sess._compile(self.fetch_tensors, self.targets, feeds, sizes=sizes)
            except DataDependentShape as e:
                if e.op in self.probe_of:    # a size given was not used: a lowering bug
                    raise
                self.chain.append(e.op)
                self.probe_of[e.op] = e.probe
                continue
            plan.dynamic = True
            self.plans[key] = plan
            if len(self.plans) > MAX_SIZED_PLANS:
                self.plans.popitem(last=False)
            return plan

    def _probe(self, op, sizes, feeds):
        uses = self.probe_uses.get(op)
        plan = None if uses is None else self.probes.get((op, *(sizes[o] for o in uses)))
        if plan is None:
            plan = self.sess._compile([self.probe_of[op]], [], feeds, sizes=dict(sizes),
                                      count=True)
            uses = self.probe_uses[op] = plan.sizes_used
            if len(self.probes) >= MAX_SIZED_PLANS:
                self.probes.clear()
            self.probes[(op, *(sizes[o] for o in uses))] = plan
        values = self.sess._execute(plan, feeds, dry=True)
        return int(values[id(self.probe_of[op])])


def check_sizes(plan, values):
    """Raises where a final plan computed another size than it was compiled for."""
    for check in plan.size_checks:
        got = int(values.pop(id(check)))
        if got != check.expected:
            raise InvalidArgumentError(
                None, check.op,
                f"{check.op.name} ({check.op.type}) found {check.expected} true elements "
                f"when its input was run first and {got} in the run itself: the input "
                "reads a variable that the same run also writes, in no fixed order; add a "
                "control dependency to fix the order")

