"""tf.train.Optimizer: the base class of the optimizers (TF 1.15 semantics).

`minimize` = `compute_gradients` (tf.gradients of the loss w.r.t. the
variables) + `apply_gradients` (slot creation, one update op per variable
under `<name>/update_<var>/`, `_finish`, then the global step increment).
Slots are non-trainable Variables named `<var>/<optimizer name>[_k]`, as TF's
slot_creator names them; they are created outside any control-dependency
scope so their initializers run on their own.
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..gradients import gradients
from ..graph import GraphKeys, Tensor, get_default_graph
from ..ops import array_ops, control_flow
from ..ops.constant_op import constant, convert_to_tensor
from ..variables import Variable, assign_add, trainable_variables

_VALID_DTYPES = (_dt.float16, _dt.float32, _dt.float64)


def _var_key(var):
    return (var.op.graph, var.op.name)


def _create_slot(primary, initial_fn, slot_op_name, dtype):
    """A slot variable named `<primary>/<slot_op_name>` (uniquified like TF's
    variable_scope default names), at the root name scope."""
    g = primary.graph
    with g.as_default(), g.name_scope(None), g.control_dependencies(None):
        return Variable(initial_fn, name=primary.op.name + "/" + slot_op_name,
                        trainable=False, dtype=dtype)


class Optimizer:
    """Base class; subclasses define `_create_slots`, `_prepare`, `_apply_dense`
    and optionally `_finish`."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}           # slot name -> {var key: slot Variable}
        self._non_slot_dict = {}   # (name, graph) -> Variable

    def get_name(self):
        return self._name

    # ---------------------------------------------------------------- public API

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """Adds ops that compute the gradients and apply them; returns the op that
        runs one step (and increments `global_step` when given)."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        if not any(g is not None for g, _ in grads_and_vars):
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do "
                "not support gradients, between variables "
                f"{[str(v) for _, v in grads_and_vars]} and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """A list of (gradient or None, variable) pairs for the loss."""
        if callable(loss):
            loss = loss()
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP,
                                  Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             f"Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not {gate_gradients}")
        if isinstance(loss, Variable):
            loss = loss.value()
        if not isinstance(loss, Tensor):
            raise TypeError(f"loss must be a Tensor, got {loss!r}")
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            with loss.graph.as_default():
                var_list = trainable_variables()
        else:
            var_list = list(_flatten(var_list))
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            if not isinstance(v, Variable):
                raise NotImplementedError(f"Trying to optimize unsupported type {v!r}")
        grads = gradients(loss, [v._ref() for v in var_list],
                          grad_ys=None if grad_loss is None else [grad_loss],
                          gate_gradients=(gate_gradients == Optimizer.GATE_OP),
                          aggregation_method=aggregation_method,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            with loss.graph.as_default():
                grads = control_flow.tuple(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Adds the update ops; returns the op that applies all of them."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None:
                try:
                    g = convert_to_tensor(g)
                except (TypeError, ValueError):
                    raise TypeError("Gradient must be convertible to a Tensor or "
                                    f"IndexedSlices, or None: {g}") from None
            if not isinstance(v, Variable):
                raise NotImplementedError(f"Trying to optimize unsupported type {v!r}")
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: "
                             f"{[str(v) for _, v in converted]}.")
        graph = var_list[0].graph
        with graph.as_default():
            with graph.control_dependencies(None):
                self._create_slots(var_list)
            update_ops = []
            with graph.name_scope(name or self._name) as scope:
                self._prepare()
                for g, v in converted:
                    if g is None:
                        continue
                    with graph.name_scope("update_" + v.op.name):
                        op = self._apply_dense(g, v)
                        if v.constraint is not None:
                            with graph.control_dependencies([op]):
                                op = v.assign(v.constraint(v))
                        update_ops.append(op)
                if global_step is None:
                    apply_updates = self._finish(update_ops, scope)
                else:
                    with graph.control_dependencies([self._finish(update_ops, "update")]):
                        # the 1 is converted inside the op's scope: `Adam/value`, as TF
                        apply_updates = assign_add(global_step, 1, name=scope)
            if isinstance(apply_updates, Tensor):
                apply_updates = apply_updates.op
            train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
            if apply_updates not in train_ops:
                train_ops.append(apply_updates)
            return apply_updates

    def get_slot(self, var, name):
        """The slot `name` made for `var`, or None."""
        named = self._slots.get(name)
        if not named:
            return None
        return named.get(_var_key(var))

    def get_slot_names(self):
        return sorted(self._slots)

    def variables(self):
        """This optimizer's slot and non-slot variables in the default graph, by name."""
        g = get_default_graph()
        out = [v for v in self._non_slot_dict.values() if v.graph is g]
        for slots in self._slots.values():
            out.extend(v for v in slots.values() if v.graph is g)
        return sorted(out, key=lambda v: v.name)

    # ---------------------------------------------------------------- subclass hooks

    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError()

    def _finish(self, update_ops, name_scope):
        return control_flow.group(*update_ops, name=name_scope)

    # ---------------------------------------------------------------- helpers

    def _call_if_callable(self, param):
        return param() if callable(param) else param

    def _assert_valid_dtypes(self, tensors):
        for t in tensors:
            dtype = t.dtype
            if dtype not in _VALID_DTYPES:
                raise ValueError(f"Invalid type {dtype!r} for {t.name}, expected: "
                                 f"{[d for d in _VALID_DTYPES]}.")

    def _slot_dict(self, slot_name):
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var, val, slot_name, op_name):
        """A slot initialized to the tensor `val`."""
        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            named[key] = _create_slot(var, lambda: val, op_name, val.dtype)
        return named[key]

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name,
                                           op_name):
        """A slot initialized by `initializer(shape, dtype)`."""
        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            dims = shape.as_list() if hasattr(shape, "as_list") else list(shape)
            named[key] = _create_slot(var, lambda: initializer(dims, dtype), op_name, dtype)
        return named[key]

    def _zeros_slot(self, var, slot_name, op_name):
        return self._get_or_make_slot_with_initializer(
            var, lambda shape, dtype: array_ops.zeros(shape, dtype=dtype), var.shape,
            var.dtype, slot_name, op_name)

    def _create_non_slot_variable(self, initial_value, name, colocate_with):
        g = colocate_with.graph
        key = (name, g)
        v = self._non_slot_dict.get(key)
        if v is None:
            with g.as_default(), g.control_dependencies(None):
                v = Variable(initial_value, name=name, trainable=False)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name, graph=None):
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    def _non_slot_variables(self):
        return list(self._non_slot_dict.values())


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for i in x:
            yield from _flatten(i)
    elif isinstance(x, dict):
        for k in sorted(x):
            yield from _flatten(x[k])
    else:
        yield x


def constant_initializer(value):
    """An initializer filling a shape with `value` (TF's constant_initializer)."""
    def init(shape, dtype):
        return constant(value, dtype=dtype, shape=shape)
    return init


def ones_initializer(shape, dtype):
    return array_ops.ones(shape, dtype=dtype)

