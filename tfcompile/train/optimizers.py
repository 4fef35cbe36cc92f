"""The concrete optimizers (GradientDescent, Momentum, Adagrad, Adadelta,
RMSProp, Adam) and their update ops (ApplyGradientDescent, ApplyMomentum, ...).

An update op takes the variable and its slots by reference (their VariableV2
tensors), the hyperparameters as scalars of the variable's dtype, and the
gradient; it lowers to IR that computes TF 1.15's update rule (in the order
TF's CPU kernels compute it) and writes every referenced variable in place.
"""
from __future__ import annotations

from ..ops import math_ops
from ..ops.constant_op import convert_to_tensor
from ..ops.op_util import make_tensor
from ..ops.registry import NotDifferentiable, lowering
from .optimizer import Optimizer, constant_initializer, ones_initializer

# ---------------------------------------------------------------- update ops

# op type -> (number of by-reference inputs, names of the other inputs)
_APPLY = {
    "ApplyGradientDescent": (1, ("alpha", "delta")),
    "ApplyMomentum": (2, ("lr", "grad", "momentum")),
    "ApplyAdagrad": (2, ("lr", "grad")),
    "ApplyAdadelta": (3, ("lr", "rho", "epsilon", "grad")),
    "ApplyRMSProp": (3, ("lr", "rho", "momentum", "epsilon", "grad")),
    "ApplyCenteredRMSProp": (4, ("lr", "rho", "momentum", "epsilon", "grad")),
    "ApplyAdam": (3, ("beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon",
                      "grad")),
}
_GRAD_INPUT = {"ApplyGradientDescent": "delta"}


def apply_op(op_type, refs, args, name=None, **attrs):
    """Creates an update op: `refs` are Variables (var first, then its slots),
    `args` the remaining inputs in TF's order."""
    n_refs, arg_names = _APPLY[op_type]
    var = refs[0]
    ref_ts = [r._ref() for r in refs]
    ins = []
    for arg, t in zip(arg_names, args):
        t = convert_to_tensor(t)
        if t.dtype != var.dtype:
            raise TypeError(f"Input '{arg}' of '{op_type}' Op has type {t.dtype.name} that "
                            f"does not match type {var.dtype.name} of argument 'var'.")
        is_grad = arg == _GRAD_INPUT.get(op_type, "grad")
        if is_grad and not var.shape.is_compatible_with(t.shape):
            raise ValueError(f"{op_type}: var and {arg} do not have the same shape: "
                             f"{var.shape} vs. {t.shape} (variable {var.op.name})")
        if not is_grad and t.shape.num_elements() not in (None, 1):
            raise ValueError(f"{op_type}: {arg} is not a scalar: {t.shape}")
        ins.append(t)
    for r in ref_ts[1:]:
        if not var.shape.is_compatible_with(r.shape):
            raise ValueError(f"{op_type}: var and accum do not have the same shape: "
                             f"{var.shape} vs. {r.shape}")
    full = {"T": var.dtype, "use_locking": False}
    full.update(attrs)
    return make_tensor(op_type, ref_ts + ins, var.dtype, var.shape, full, name=name,
                       default_name=op_type)


for _t in _APPLY:
    NotDifferentiable(_t)


def _updates(op_type, attrs, e, refs, a):
    """The new values of the referenced variables. `e(op, *xs)` emits an IR op,
    `a` maps input names to values broadcast to the variable's shape."""
    def sq(x):
        return e("mul", x, x)
    g = a["grad"] if "grad" in a else a["delta"]
    one = a["_one"]
    if op_type == "ApplyGradientDescent":                  # var -= grad * lr
        return [e("sub", refs[0], e("mul", g, a["alpha"]))]
    if op_type == "ApplyMomentum":
        var, accum = refs
        lr, mom = a["lr"], a["momentum"]
        accum = e("add", e("mul", accum, mom), g)          # accum = accum * mom + grad
        if attrs.get("use_nesterov"):                      # var -= g*lr + accum*mom*lr
            step = e("add", e("mul", g, lr), e("mul", e("mul", accum, mom), lr))
        else:                                              # var -= accum * lr
            step = e("mul", accum, lr)
        return [e("sub", var, step), accum]
    if op_type == "ApplyAdagrad":
        var, accum = refs
        if attrs.get("update_slots", True):
            accum = e("add", accum, sq(g))                 # accum += grad^2
        return [e("sub", var, e("mul", e("mul", g, a["lr"]), e("rsqrt", accum))), accum]
    if op_type == "ApplyAdadelta":
        var, accum, accum_update = refs
        rho, eps = a["rho"], a["epsilon"]
        accum = e("add", e("mul", accum, rho), e("mul", sq(g), e("sub", one, rho)))
        update = e("mul", e("mul", e("sqrt", e("add", accum_update, eps)),
                            e("rsqrt", e("add", accum, eps))), g)
        accum_update = e("add", e("mul", accum_update, rho),
                         e("mul", sq(update), e("sub", one, rho)))
        return [e("sub", var, e("mul", update, a["lr"])), accum, accum_update]
    if op_type == "ApplyRMSProp":
        var, ms, mom = refs
        rho, eps = a["rho"], a["epsilon"]
        ms = e("add", ms, e("mul", e("sub", sq(g), ms), e("sub", one, rho)))
        mom = e("add", e("mul", mom, a["momentum"]),
                e("div", e("mul", g, a["lr"]), e("sqrt", e("add", ms, eps))))
        return [e("sub", var, mom), ms, mom]
    if op_type == "ApplyCenteredRMSProp":
        var, mg, ms, mom = refs
        rho, eps = a["rho"], a["epsilon"]
        ms = e("add", ms, e("mul", e("sub", sq(g), ms), e("sub", one, rho)))
        mg = e("add", mg, e("mul", e("sub", g, mg), e("sub", one, rho)))
        denom = e("add", e("sub", ms, sq(mg)), eps)
        mom = e("add", e("mul", mom, a["momentum"]),
                e("div", e("mul", g, a["lr"]), e("sqrt", denom)))
        return [e("sub", var, mom), mg, ms, mom]
    if op_type == "ApplyAdam":
        var, m, v = refs
        b1, b2, eps = a["beta1"], a["beta2"], a["epsilon"]
        # alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        alpha = e("div", e("mul", a["lr"], e("sqrt", e("sub", one, a["beta2_power"]))),
                  e("sub", one, a["beta1_power"]))
        m = e("add", m, e("mul", e("sub", g, m), e("sub", one, b1)))
        v = e("add", v, e("mul", e("sub", sq(g), v), e("sub", one, b2)))
        if attrs.get("use_nesterov"):
            num = e("mul", e("add", e("mul", g, e("sub", one, b1)), e("mul", b1, m)), alpha)
        else:
            num = e("mul", m, alpha)
        return [e("sub", var, e("div", num, e("add", e("sqrt", v), eps))), m, v]
    raise NotImplementedError(op_type)


@lowering(*_APPLY)
def _lower_apply(ctx, op, inputs):
    n_refs, arg_names = _APPLY[op.type]
    refs = inputs[:n_refs]
    shape = refs[0].shape
    for r, t in zip(refs[1:], op.inputs[1:n_refs]):
        if r.shape != shape:
            ctx.fail(f"var and {t.op.name} do not have the same shape: {list(shape)} "
                     f"vs. {list(r.shape)}")
    a = {}
    for arg, v in zip(arg_names, inputs[n_refs:]):
        if arg in ("grad", "delta"):
            if v.shape != shape:
                ctx.fail(f"var and {arg} do not have the same shape: {list(shape)} vs. "
                         f"{list(v.shape)}")
            a[arg] = v
        else:
            if v.type.size != 1:  # TF's legacy scalars: rank 0, or one element
                ctx.fail(f"{arg} is not a scalar: {list(v.shape)}")
            if v.shape != ():
                v = ctx.b.emit("reshape", [v], shape=[])
            a[arg] = ctx.bcast(v, shape)
    a["_one"] = ctx.scalar(1, refs[0].dtype, shape)

    def e(name, *xs):
        return ctx.b.emit(name, list(xs))
    new = _updates(op.type, op.attrs, e, refs, a)
    for t, value in zip(op.inputs[:n_refs], new):
        ctx.write_variable(t.op, value)
    return [new[0]]


def _cast(t, dtype):
    return math_ops.cast(t, dtype)


# ---------------------------------------------------------------- optimizers

class GradientDescentOptimizer(Optimizer):
    """var -= learning_rate * grad."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        lr = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = convert_to_tensor(lr, name="learning_rate")

    def _apply_dense(self, grad, var):
        return apply_op("ApplyGradientDescent", [var],
                        [_cast(self._learning_rate_tensor, var.dtype), grad],
                        use_locking=self._use_locking).op


class MomentumOptimizer(Optimizer):
    """accum = momentum * accum + grad; var -= lr * accum (Nesterov:
    var -= lr * grad + lr * momentum * accum)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(
            self._call_if_callable(self._learning_rate), name="learning_rate")
        self._momentum_tensor = convert_to_tensor(
            self._call_if_callable(self._momentum), name="momentum")

    def _apply_dense(self, grad, var):
        mom = self.get_slot(var, "momentum")
        return apply_op("ApplyMomentum", [var, mom],
                        [_cast(self._learning_rate_tensor, var.dtype), grad,
                         _cast(self._momentum_tensor, var.dtype)],
                        use_locking=self._use_locking, use_nesterov=self._use_nesterov).op


class AdagradOptimizer(Optimizer):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot_with_initializer(
                v, constant_initializer(self._initial_accumulator_value), v.shape, v.dtype,
                "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = convert_to_tensor(
            self._call_if_callable(self._learning_rate), name="learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return apply_op("ApplyAdagrad", [var, acc],
                        [_cast(self._learning_rate_tensor, var.dtype), grad],
                        use_locking=self._use_locking, update_slots=True)


class AdadeltaOptimizer(Optimizer):
    """Zeiler's Adadelta, as TF 1.15's ApplyAdadelta computes it."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = convert_to_tensor(self._call_if_callable(self._lr), name="lr")
        self._rho_t = convert_to_tensor(self._call_if_callable(self._rho), name="rho")
        self._epsilon_t = convert_to_tensor(self._call_if_callable(self._epsilon),
                                            name="epsilon")

    def _apply_dense(self, grad, var):
        d = var.dtype
        return apply_op("ApplyAdadelta",
                        [var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update")],
                        [_cast(self._lr_t, d), _cast(self._rho_t, d),
                         _cast(self._epsilon_t, d), grad], use_locking=self._use_locking)


class RMSPropOptimizer(Optimizer):
    """ms += (grad^2 - ms) * (1 - decay); mom = momentum * mom + lr * grad /
    sqrt(ms + eps); var -= mom (centered: ms - mg^2 in the root)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot_with_initializer(v, ones_initializer, v.shape, v.dtype,
                                                    "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        c = self._call_if_callable
        self._learning_rate_tensor = convert_to_tensor(c(self._learning_rate),
                                                       name="learning_rate")
        self._decay_tensor = convert_to_tensor(c(self._decay), name="decay")
        self._momentum_tensor = convert_to_tensor(c(self._momentum), name="momentum")
        self._epsilon_tensor = convert_to_tensor(c(self._epsilon), name="epsilon")

    def _apply_dense(self, grad, var):
        d = var.dtype
        args = [_cast(self._learning_rate_tensor, d), _cast(self._decay_tensor, d),
                _cast(self._momentum_tensor, d), _cast(self._epsilon_tensor, d), grad]
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return apply_op("ApplyCenteredRMSProp", [var, self.get_slot(var, "mg"), rms, mom],
                            args, use_locking=self._use_locking)
        return apply_op("ApplyRMSProp", [var, rms, mom], args, use_locking=self._use_locking)


class AdamOptimizer(Optimizer):
    """Adam as TF 1.15's ApplyAdam: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
    m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2); var -= lr_t m / (sqrt(v) + eps).
    beta1^t and beta2^t are the non-slot variables `beta1_power`, `beta2_power`."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self):
        graph = self._beta_graph
        return (self._get_non_slot_variable("beta1_power", graph=graph),
                self._get_non_slot_variable("beta2_power", graph=graph))

    def _create_slots(self, var_list):
        first = min(var_list, key=lambda x: x.name)
        self._beta_graph = first.graph
        self._create_non_slot_variable(self._beta1, "beta1_power", first)
        self._create_non_slot_variable(self._beta2, "beta2_power", first)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        c = self._call_if_callable
        self._lr_t = convert_to_tensor(c(self._lr), name="learning_rate")
        self._beta1_t = convert_to_tensor(c(self._beta1), name="beta1")
        self._beta2_t = convert_to_tensor(c(self._beta2), name="beta2")
        self._epsilon_t = convert_to_tensor(c(self._epsilon), name="epsilon")

    def _apply_dense(self, grad, var):
        b1p, b2p = self._get_beta_accumulators()
        d = var.dtype
        return apply_op("ApplyAdam", [var, self.get_slot(var, "m"), self.get_slot(var, "v")],
                        [_cast(b1p, d), _cast(b2p, d), _cast(self._lr_t, d),
                         _cast(self._beta1_t, d), _cast(self._beta2_t, d),
                         _cast(self._epsilon_t, d), grad],
                        use_locking=self._use_locking, use_nesterov=False)

    def _finish(self, update_ops, name_scope):
        from ..ops import control_flow
        g = self._beta_graph
        with g.control_dependencies(update_ops):
            b1p, b2p = self._get_beta_accumulators()
            update_beta1 = b1p.assign(b1p * self._beta1_t, use_locking=self._use_locking)
            update_beta2 = b2p.assign(b2p * self._beta2_t, use_locking=self._use_locking)
        return control_flow.group(*update_ops + [update_beta1, update_beta2], name=name_scope)

