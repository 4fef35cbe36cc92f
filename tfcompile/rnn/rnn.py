"""tf.nn.static_rnn, static_bidirectional_rnn, dynamic_rnn and
bidirectional_dynamic_rnn (TF 1.15 semantics, variable scope "rnn" or
"bidirectional_rnn/fw", ".../bw").

The compiler has no loop op, so dynamic_rnn unrolls over the time dimension
while the graph is built (as tf.while_loop does here): the number of steps
must be known then, and the compiled code (and its compile time) grows with
it. With sequence_length, each step's output is zero and the
state is carried unchanged for the batch entries whose sequence has ended
(TF's _rnn_step, as selects).

Random ops in an unrolled step are ops of their own: without an op seed each
gets a fresh one, as in TF; DropoutWrapper's seeded masks are salted with the
step (base.unrolled_step) so they change from step to step as TF's do, while a
cell's own explicitly seeded random op would repeat its values each step."""
from __future__ import annotations

from .. import dtypes as _dt
from ..graph import control_dependencies, name_scope
from ..ops import array_ops, math_ops
from ..ops.check_ops import Assert
from ..ops.constant_op import convert_to_tensor
from ..ops.manip_ops import reverse
from ..tensor_shape import TensorShape
from ..variable_scope import variable_scope
from . import nest
from .base import _concat, assert_like_rnncell, unrolled_step
from .reverse_sequence import reverse_sequence


def _infer_state_dtype(explicit_dtype, state):
    if explicit_dtype is not None:
        return _dt.as_dtype(explicit_dtype)
    flat = nest.flatten(state)
    if not flat:
        raise ValueError("Unable to infer dtype from empty state.")
    dtypes = {t.dtype for t in flat}
    if len(dtypes) != 1:
        raise ValueError(f"State has tensors of different inferred_dtypes. Unable to infer "
                         f"a single representative dtype. Dtypes received: "
                         f"{sorted(d.name for d in dtypes)}")
    return flat[0].dtype


def _initial_state(cell, initial_state, batch_size, dtype, what):
    if initial_state is not None:
        return initial_state
    if not dtype:
        raise ValueError(f"{what}: If no initial_state is provided, dtype must be specified")
    if getattr(cell, "get_initial_state", None) is not None:
        return cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
    return cell.zero_state(batch_size, dtype)


def _sequence_length(sequence_length, what):
    if sequence_length is None:
        return None
    sl = convert_to_tensor(sequence_length, name="sequence_length")
    if not sl.dtype.is_integer:
        raise TypeError(f"{what}: sequence_length must be an integer vector, got "
                        f"{sl.dtype.name}")
    if sl.shape.ndims not in (None, 1):
        raise ValueError(f"{what}: sequence_length must be a vector of length batch_size, "
                         f"but saw shape: {sl.shape}")
    return math_ops.cast(sl, _dt.int32)


def _check_batch(sequence_length, batch, what):
    n = sequence_length.shape.as_list()[0] if sequence_length.shape.ndims == 1 else None
    if isinstance(batch, int) and n is not None and n != batch:
        raise ValueError(f"{what}: sequence_length has {n} entries but the batch size is "
                         f"{batch}: one length per batch entry is needed")


def _checked_length(sequence_length, batch_size):
    """sequence_length after an Assert of its shape [batch_size] (TF's CheckSeqLen;
    with static shapes the plan's compilation decides it)."""
    got = array_ops.shape(sequence_length)
    want = array_ops.stack([batch_size])
    check = Assert(math_ops.reduce_all(math_ops.equal(got, want)),
                   [f"Expected shape for Tensor {sequence_length.name} is ", want,
                    " but saw shape: ", got])
    with control_dependencies([check]):
        return math_ops.identity(sequence_length, name="CheckSeqLen")


def _zero_output(cell, batch_size, static_batch, dtype):
    def make(size):
        z = array_ops.zeros(_concat(batch_size, size), dtype)
        z.set_shape(TensorShape(_concat(static_batch, size, static=True)))
        return z
    return nest.map_structure(make, cell.output_size)


def _rnn_step(time, sequence_length, zero_output, state, new_output, new_state):
    """Where time >= sequence_length[b]: a zero output and the old state for row b."""
    nest.assert_same_structure(zero_output, new_output, "output")
    nest.assert_same_structure(state, new_state, "state")
    done = math_ops.greater_equal(time, sequence_length)

    def keep(old, new):
        if new.shape.ndims == 0:  # a scalar state is passed through as TF does
            return new
        return array_ops.where(done, old, new)
    out = nest.map_structure(keep, zero_output, new_output)
    st = nest.pack_sequence_as(state, [keep(o, n) for o, n in zip(
        nest.flatten(state), nest.flatten(new_state))])
    return out, st


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None):
    """Runs `cell` over the list `inputs` (one [batch, depth] tensor per step);
    returns (outputs list, final state)."""
    assert_like_rnncell("cell", cell)
    if not nest.is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    outputs = []
    with variable_scope(scope or "rnn") as varscope:
        first = inputs
        while nest.is_sequence(first):
            first = first[0]
        first = convert_to_tensor(first)
        if first.shape.ndims != 1:
            fixed_batch = None
            for x in nest.flatten(inputs):
                shape = convert_to_tensor(x).shape
                if shape.ndims is not None and shape.ndims < 2:
                    raise ValueError(f"Shape must be at least rank 2 but is rank "
                                     f"{shape.ndims} (static_rnn input {x})")
                dims = shape.as_list() if shape.ndims is not None else [None, None]
                if fixed_batch is None:
                    fixed_batch = dims[0]
                elif dims[0] is not None and dims[0] != fixed_batch:
                    raise ValueError(f"static_rnn: inputs have batch sizes {fixed_batch} "
                                     f"and {dims[0]}; every step needs the same")
                for i, d in enumerate(dims[1:]):
                    if d is None:
                        raise ValueError(f"Input size (dimension {i} of inputs) must be "
                                         "accessible via shape inference, but saw value "
                                         "None.")
        else:
            fixed_batch = first.shape.as_list()[0]
        batch_size = fixed_batch if fixed_batch is not None else array_ops.shape(first)[0]
        state = _initial_state(cell, initial_state, batch_size, dtype, "static_rnn")
        sequence_length = _sequence_length(sequence_length, "static_rnn")
        if sequence_length is not None:
            _check_batch(sequence_length, fixed_batch, "static_rnn")
            zero_output = _zero_output(cell, batch_size, fixed_batch,
                                       _infer_state_dtype(dtype, state))
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()
            output, new_state = cell(input_, state)
            if sequence_length is not None:
                output, new_state = _rnn_step(time, sequence_length, zero_output, state,
                                              output, new_state)
            state = new_state
            outputs.append(output)
        return outputs, state


def _reverse_seq(input_seq, lengths):
    """The list of steps reversed, per batch entry up to its length if given."""
    if lengths is None:
        return list(reversed(input_seq))
    flat_steps = [nest.flatten(x) for x in input_seq]
    results = [[] for _ in input_seq]
    for parts in zip(*flat_steps):
        joined = array_ops.stack(list(parts))
        rev = array_ops.unstack(reverse_sequence(joined, lengths, seq_axis=0, batch_axis=1))
        for r, flat in zip(rev, results):
            r.set_shape(parts[0].shape)
            flat.append(r)
    return [nest.pack_sequence_as(x, flat) for x, flat in zip(input_seq, results)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """static_rnn forward and over the reversed steps; returns (outputs, state_fw,
    state_bw) with each output the concatenation [forward, backward]."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    if not nest.is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                          sequence_length, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            rev = _reverse_seq(inputs, sequence_length)
            tmp, state_bw = static_rnn(cell_bw, rev, initial_state_bw, dtype,
                                       sequence_length, scope=bw_scope)
    out_bw = _reverse_seq(tmp, sequence_length)
    outputs = []
    for fw, bw in zip(out_fw, out_bw):
        flat = [array_ops.concat([f, b], 1) for f, b in zip(nest.flatten(fw),
                                                              nest.flatten(bw))]
        outputs.append(nest.pack_sequence_as(fw, flat))
    return outputs, state_fw, state_bw


def _transpose_batch_time(x):
    """[batch, time, ...] <-> [time, batch, ...]."""
    r = x.shape.ndims
    if r is None:
        raise ValueError(f"dynamic_rnn: the rank of the input {x.name} must be known "
                         "(at least 2: [batch, time, ...])")
    if r < 2:
        raise ValueError(f"Expected input tensor {x} to have rank at least 2, but saw "
                         f"shape: {x.shape}")
    out = array_ops.transpose(x, [1, 0] + list(range(2, r)))
    d = x.shape.as_list()
    out.set_shape(TensorShape([d[1], d[0]] + d[2:]))
    return out


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Runs `cell` over the time dimension of `inputs` ([batch, time, depth], or
    [time, batch, depth] with time_major); returns (outputs like the inputs'
    layout with the cell's output size, final state). parallel_iterations and
    swap_memory are accepted (they tune TF's loop, not the result). The time
    dimension must be known when the graph is built: the loop is unrolled."""
    assert_like_rnncell("cell", cell)
    with variable_scope(scope or "rnn") as varscope:
        flat_input = [convert_to_tensor(x) for x in nest.flatten(inputs)]
        if not flat_input:
            raise ValueError("dynamic_rnn: inputs must not be empty")
        orig_shapes = [(x.name, x.shape) for x in flat_input]
        if not time_major:
            flat_input = [_transpose_batch_time(x) for x in flat_input]
        shapes = []
        for x in flat_input:
            if x.shape.ndims is None or x.shape.ndims < 3:
                raise ValueError(f"Shape must be at least rank 3 but is rank "
                                 f"{x.shape.ndims} for the dynamic_rnn input {x.name} "
                                 f"(shape {x.shape}): [batch, time, depth] expected")
            shapes.append(x.shape.as_list())
        steps, static_batch = shapes[0][:2]
        for s in shapes:
            if any(d is None for d in s[2:]):
                raise ValueError("Input size (depth of inputs) must be accessible via shape "
                                 "inference, but saw value None.")
            if s[0] != steps:
                raise ValueError("Time steps is not the same for all the elements in the "
                                 "input in a batch.")
            if s[1] != static_batch:
                raise ValueError("Batch_size is not the same for all the elements in the "
                                 "input.")
        if steps is None:
            layout = "[time, batch, depth]" if time_major else "[batch, time, depth]"
            raise ValueError(
                f"dynamic_rnn: the time dimension of the input {orig_shapes[0][0]} "
                f"{layout} is unknown (shape {orig_shapes[0][1]}). The compiler unrolls "
                "the recurrence while building the graph, so it needs the number of "
                "steps then: give the input placeholder a fixed time dimension, e.g. "
                "tf.placeholder(tf.float32, [None, 20, depth]), padding shorter "
                "sequences and passing their lengths as sequence_length.")
        batch_size = (static_batch if static_batch is not None
                      else array_ops.shape(flat_input[0])[1])
        sequence_length = _sequence_length(sequence_length, "dynamic_rnn")
        if sequence_length is not None:
            _check_batch(sequence_length, static_batch, "dynamic_rnn")
            sequence_length = math_ops.identity(sequence_length, name="sequence_length")
        state = _initial_state(cell, initial_state, batch_size, dtype, "dynamic_rnn")
        if sequence_length is not None:
            sequence_length = _checked_length(sequence_length, batch_size)
        inputs_tm = nest.pack_sequence_as(inputs, flat_input)
        outputs, state = _dynamic_rnn_loop(cell, inputs_tm, state, steps, batch_size,
                                           static_batch, sequence_length, dtype, varscope)
        if not time_major:
            outputs = nest.map_structure(_transpose_batch_time, outputs)
        return outputs, state


def _dynamic_rnn_loop(cell, inputs, state, steps, batch_size, static_batch,
                      sequence_length, dtype, varscope):
    """The unrolled loop over `steps` time-major steps: (stacked outputs
    [time, batch, ...], final state)."""
    flat_input = nest.flatten(inputs)
    out_dtype = _infer_state_dtype(dtype, state)
    with name_scope("dynamic_rnn"):
        zero_output = (_zero_output(cell, batch_size, static_batch, out_dtype)
                       if sequence_length is not None else None)
    per_step = [array_ops.unstack(x, num=steps) for x in flat_input]
    step_outputs = []
    with name_scope("while"):
        if steps == 0:
            # TF builds the loop body even when it runs no step: the cell's
            # variables exist all the same.
            step_in = nest.pack_sequence_as(inputs, [
                array_ops.zeros(_concat(batch_size, x.shape.as_list()[2:]), x.dtype)
                for x in flat_input])
            cell(step_in, state)
        for t in range(steps):
            if t > 0:  # cells that call tf.get_variable in call() share it
                varscope.reuse_variables()
            step_in = nest.pack_sequence_as(inputs, [p[t] for p in per_step])
            token = unrolled_step.set(t)
            try:
                output, new_state = cell(step_in, state)
            finally:
                unrolled_step.reset(token)
            if sequence_length is not None:
                output, new_state = _rnn_step(t, sequence_length, zero_output, state,
                                              output, new_state)
            else:
                nest.assert_same_structure(state, new_state, "state")
            state = new_state
            step_outputs.append(nest.flatten(output))
        flat_state = nest.flatten(state)
        n_out = len(nest.flatten(cell.output_size))
        # Named as TF 1.15's loop exits: counter, time, one per output, the states.
        flat_state = [math_ops.identity(s, name=f"Exit_{2 + n_out + i}")
                      for i, s in enumerate(flat_state)]
        state = nest.pack_sequence_as(state, flat_state)
    flat_sizes = nest.flatten(cell.output_size)
    stacked = []
    with name_scope("TensorArrayStack"):
        for k, size in enumerate(flat_sizes):
            if steps == 0:  # no step ran: [0, batch, size] of zeros
                out = array_ops.expand_dims(array_ops.zeros(
                    _concat(batch_size, size), out_dtype), 0)[:0]
            else:
                out = array_ops.stack([o[k] for o in step_outputs],
                                      name="TensorArrayGatherV3")
            out.set_shape(TensorShape(_concat([steps, static_batch], size, static=True)))
            stacked.append(out)
    return nest.pack_sequence_as(cell.output_size, stacked), state


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """dynamic_rnn forward and over the inputs reversed in time (per entry up to
    its sequence_length); returns ((output_fw, output_bw), (state_fw, state_bw)),
    output_bw reversed back into input order."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = dynamic_rnn(
                cell_fw, inputs, sequence_length=sequence_length,
                initial_state=initial_state_fw, dtype=dtype,
                parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=fw_scope)
        time_axis, batch_axis = (0, 1) if time_major else (1, 0)

        def rev(x):
            if sequence_length is not None:
                return reverse_sequence(x, sequence_length, seq_axis=time_axis,
                                        batch_axis=batch_axis)
            return reverse(x, axis=[time_axis])
        with variable_scope("bw") as bw_scope:
            inputs_rev = nest.map_structure(rev, inputs)
            tmp, state_bw = dynamic_rnn(
                cell_bw, inputs_rev, sequence_length=sequence_length,
                initial_state=initial_state_bw, dtype=dtype,
                parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=bw_scope)
    out_bw = nest.map_structure(rev, tmp)
    return (out_fw, out_bw), (state_fw, state_bw)

