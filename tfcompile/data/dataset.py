"""tf.data.Dataset (TF 1.15's DatasetV1) and its source datasets.

A dataset is a Python description of a pipeline: its element structure (a nest
of Spec: dtype and static shape per component), its input datasets, and the
graph tensors it captures (values that are computed when an iterator is
initialized: a placeholder fed to the initializer's run, a tensor computed from
one). An iterator walks it with `_elements(env)`: a generator of elements, each
the flat list of numpy arrays of its components, where `env` holds the
iterating session and the captured values (see iterator.py). Constant inputs
are held as numpy arrays; user functions run as compiled code
(functions.py); the transformations live in transforms.py."""
from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes as _dt
from ..errors import InvalidArgumentError
from ..graph import Tensor
from ..ops.constant_op import to_numpy
from ..ops.op_util import constant_value
from ..tensor_shape import TensorShape
from . import structure as st


class IterEnv:
    """What an iteration needs: the session (runs user functions), the values of
    captured tensors, the get_next op being served (errors name it) and the
    per-iteration state of shuffles (epoch counts) and caches."""

    def __init__(self, session, values, op=None):
        self.session = session
        self.values = values
        self.op = op
        self.epochs = {}
        self.caches = {}

    def child(self, values):
        """The env of an inner dataset (flat_map) with more captured values."""
        return IterEnv(self.session, {**self.values, **values}, self.op)

    def scalar(self, x):
        """A scalar argument: a Python int, or a captured tensor's value."""
        if isinstance(x, Tensor):
            return np.asarray(self.values[x]).item()
        return x

    def error(self, message):
        return InvalidArgumentError(None, self.op, message)


# ---------------------------------------------------------------- arguments

def component(value, what="component"):
    """A dataset input: a numpy array (a constant, copied), or a Tensor whose
    value is captured when an iterator is initialized."""
    from ..variables import Variable
    if isinstance(value, Variable):
        value = value.value()
    if isinstance(value, Tensor):
        static = constant_value(value)
        if static is None:
            return value
        return np.array(static, dtype=value.dtype.as_numpy_dtype)
    if hasattr(value, "_as_tensor"):
        return component(value._as_tensor(), what)
    arr = np.array(to_numpy(value, what=what))  # a copy: later changes don't leak in
    return arr


def spec_of(c):
    if isinstance(c, Tensor):
        return st.Spec(c.dtype, c.shape)
    return st.Spec(_dt.as_dtype(c.dtype), c.shape)


def int_arg(x, name):
    """An int64 scalar argument (batch_size, count, ...): a Python int, or a
    tensor (int64, as TF converts it) captured unless constant."""
    from ..variables import Variable
    if isinstance(x, Variable):
        x = x.value()
    if isinstance(x, Tensor):
        if x.dtype != _dt.int64:
            raise ValueError(f"Tensor conversion requested dtype int64 for Tensor with dtype "
                             f"{x.dtype.name}: {x!r}")
        if x.shape.ndims not in (None, 0):
            raise ValueError(f"`{name}` must be a scalar, got shape {x.shape}")
        static = constant_value(x)
        return x if static is None else int(static)
    if isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iu":
        return int(x)
    raise TypeError(f"`{name}` must be an integer or an int64 scalar tensor, got {x!r}")


def bool_arg(x, name):
    if isinstance(x, Tensor):
        static = constant_value(x)
        if static is None:
            raise ValueError(f"`{name}` must be known when the dataset is built (a Python "
                             "bool or a constant tensor)")
        return bool(static)
    return bool(x)


# ---------------------------------------------------------------- the base class

class Dataset:
    """tf.data.Dataset (TF 1.15's DatasetV1): a pipeline of elements."""

    def __init__(self, specs, inputs=(), captures=()):
        self._specs = specs            # nest of st.Spec
        self._input_datasets = list(inputs)
        self._own_captures = [t for t in captures if isinstance(t, Tensor)]

    # ---- what iterators use
    def _elements(self, env):
        """The pipeline's elements, one nest of numpy arrays each: every source and
        transformation defines it (this base class is never used on its own)."""
        raise TypeError(f"{type(self).__name__} defines no elements: a Dataset comes "
                        "from a source (from_tensor_slices, range, ...)")

    def _captures(self):
        """The graph tensors this pipeline needs when an iterator starts, in order."""
        out, seen, stack = [], set(), [self]
        while stack:
            ds = stack.pop()
            for t in ds._own_captures:
                if t not in seen:
                    seen.add(t)
                    out.append(t)
            stack.extend(reversed(ds._input_datasets))
        return out

    def _graphs(self):
        """The graphs holding this pipeline's tensors and traced functions."""
        gs, stack = set(), [self]
        while stack:
            ds = stack.pop()
            gs.update(t.graph for t in ds._own_captures)
            fn = getattr(ds, "_fn", None)
            if fn is not None:
                gs.add(fn.graph)
            stack.extend(ds._input_datasets)
        return gs

    # ---- TF 1.15 properties
    @property
    def output_types(self):
        return st.map_structure(lambda s: s.dtype, self._specs)

    @property
    def output_shapes(self):
        return st.map_structure(lambda s: s.shape, self._specs)

    @property
    def output_classes(self):
        return st.map_structure(lambda s: Tensor, self._specs)

    def __repr__(self):
        shapes = st.map_structure(lambda s: _ShapeRepr(s.shape), self._specs)
        types = st.map_structure(lambda s: s.dtype, self._specs)
        return f"<{type(self).__name__} shapes: {shapes!r}, types: {types!r}>"

    def __iter__(self):
        raise RuntimeError("__iter__() is only supported inside of tf.function or when "
                           "eager execution is enabled.")

    # ---- iterators
    def make_one_shot_iterator(self):
        from .iterator import make_one_shot
        return make_one_shot(self)

    def make_initializable_iterator(self, shared_name=None):
        from .iterator import make_initializable
        return make_initializable(self, shared_name)

    # ---- sources
    @staticmethod
    def from_tensor_slices(tensors):
        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors):
        return TensorDataset(tensors)

    @staticmethod
    def range(*args):
        return RangeDataset(*args)

    @staticmethod
    def zip(datasets):
        return ZipDataset(datasets)

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None):
        return GeneratorDataset(generator, output_types, output_shapes, args)

    # ---- transformations (transforms.py)
    def batch(self, batch_size, drop_remainder=False):
        return _t.BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes, padding_values=None,
                     drop_remainder=False):
        return _t.PaddedBatchDataset(self, batch_size, padded_shapes, padding_values,
                                     drop_remainder)

    def unbatch(self):
        return _t.UnbatchDataset(self)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None):
        return _t.ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None):
        return _t.RepeatDataset(self, count)

    def take(self, count):
        return _t.TakeDataset(self, count)

    def skip(self, count):
        return _t.SkipDataset(self, count)

    def shard(self, num_shards, index):
        return _t.ShardDataset(self, num_shards, index)

    def prefetch(self, buffer_size):
        return _t.PrefetchDataset(self, buffer_size)

    def cache(self, filename=""):
        return _t.CacheDataset(self, filename)

    def concatenate(self, dataset):
        return _t.ConcatenateDataset(self, dataset)

    def enumerate(self, start=0):
        return _t.EnumerateDataset(self, start)

    def map(self, map_func, num_parallel_calls=None):
        return _t.MapDataset(self, map_func)

    def filter(self, predicate):
        return _t.FilterDataset(self, predicate)

    def flat_map(self, map_func):
        return _t.FlatMapDataset(self, map_func)

    def apply(self, transformation_func):
        ds = transformation_func(self)
        if not isinstance(ds, Dataset):
            raise TypeError(f"`transformation_func` must return a Dataset. Got {ds!r}.")
        return ds


class _ShapeRepr:
    def __init__(self, shape):
        self.shape = shape

    def __repr__(self):
        return st.shape_str(self.shape)


# ---------------------------------------------------------------- sources

def _components(tensors, what):
    """A nest of inputs -> (structure of numpy arrays / Tensors, flat list)."""
    if isinstance(tensors, Dataset):
        raise TypeError(f"{what}: expected tensors, got a Dataset")
    conv = st.map_structure(lambda v: component(v, what), tensors) if st.is_nested(
        tensors) else component(tensors, what)
    flat = st.flatten(conv)
    if not flat:
        raise ValueError(f"{what}: the element has no components")
    return conv, flat


def _value(env, c):
    return np.asarray(env.values[c]) if isinstance(c, Tensor) else c


class TensorDataset(Dataset):
    """Dataset.from_tensors: one element."""

    def __init__(self, tensors):
        conv, self._flat = _components(tensors, "from_tensors")
        super().__init__(st.map_structure(spec_of, conv) if st.is_nested(conv)
                         else spec_of(conv), captures=self._flat)

    def _elements(self, env):
        yield [_value(env, c) for c in self._flat]


class TensorSliceDataset(Dataset):
    """Dataset.from_tensor_slices: the slices along the first dimension."""

    def __init__(self, tensors):
        conv, self._flat = _components(tensors, "from_tensor_slices")
        rows = None
        for c in self._flat:
            shape = c.shape if isinstance(c, Tensor) else TensorShape(c.shape)
            if shape.ndims == 0:
                raise ValueError("from_tensor_slices: a component of rank 0 can't be sliced "
                                 f"(each needs a first dimension), got {c!r}")
            n = None if shape.ndims is None else shape.as_tuple()[0]
            if n is not None and rows is not None and n != rows:
                raise ValueError(f"Dimensions {rows} and {n} are not compatible")
            rows = n if n is not None else rows

        def slice_spec(c):
            s = spec_of(c)
            return st.Spec(s.dtype, s.shape[1:])
        super().__init__(st.map_structure(slice_spec, conv) if st.is_nested(conv)
                         else slice_spec(conv), captures=self._flat)

    def _elements(self, env):
        arrays = [_value(env, c) for c in self._flat]
        n = arrays[0].shape[0]
        for a in arrays[1:]:
            if a.shape[0] != n:
                raise env.error(f"Expected size[0] = {n} for every component of "
                                f"from_tensor_slices, but one has {a.shape[0]} rows")
        for i in range(n):
            yield [a[i] for a in arrays]


class RangeDataset(Dataset):
    """Dataset.range(stop) / (start, stop) / (start, stop, step): int64 scalars."""

    def __init__(self, *args):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to RangeDataset: {args!r}")
        names = ("stop",) if len(args) == 1 else ("start", "stop", "step")[:len(args)]
        vals = [int_arg(a, n) for a, n in zip(args, names)]
        if len(vals) == 1:
            vals = [0] + vals
        if len(vals) == 2:
            vals.append(1)
        self._args = vals
        super().__init__(st.Spec(_dt.int64, []), captures=vals)

    def _elements(self, env):
        start, stop, step = (env.scalar(a) for a in self._args)
        if step == 0:
            raise env.error("step must be a non-zero integer.")
        for v in range(start, stop, step):
            yield [np.array(v, np.int64)]


class ZipDataset(Dataset):
    """Dataset.zip: a nest of datasets, element by element, to the shortest."""

    def __init__(self, datasets):
        flat = st.flatten(datasets)
        if not flat or not all(isinstance(d, Dataset) for d in flat):
            raise TypeError("The argument to `Dataset.zip()` must be a nested structure of "
                            "`Dataset` objects.")
        self._datasets = flat
        specs = st.pack_as(datasets, [d._specs for d in flat]) if st.is_nested(
            datasets) else flat[0]._specs
        super().__init__(specs, inputs=flat)

    def _elements(self, env):
        its = [d._elements(env) for d in self._datasets]
        while True:
            out = []
            for it in its:
                e = next(it, None)
                if e is None:
                    return
                out += e
            yield out


class GeneratorDataset(Dataset):
    """Dataset.from_generator: elements from a Python generator, converted to
    `output_types` and checked against `output_shapes`."""

    def __init__(self, generator, output_types, output_shapes=None, args=None):
        if not callable(generator):
            raise TypeError("`generator` must be callable.")
        types = st.map_structure(_dt.as_dtype, output_types) if st.is_nested(
            output_types) else _dt.as_dtype(output_types)
        if output_shapes is None:
            shapes = st.map_structure(lambda _: TensorShape(None), types) if st.is_nested(
                types) else TensorShape(None)
        else:
            shapes = _shapes_like(types, output_shapes)
        self._gen = generator
        self._types = types
        self._args = [component(a, "from_generator args") for a in (args or ())]
        specs = st.map_structure(st.Spec, types, shapes) if st.is_nested(types) else \
            st.Spec(types, shapes)
        super().__init__(specs, captures=self._args)

    def _elements(self, env):
        flat_specs = st.flatten(self._specs)
        for value in self._gen(*[_value(env, a) for a in self._args]):
            flat = _flatten_up_to(self._types, value)
            if flat is None:
                raise env.error(
                    "TypeError: `generator` yielded an element that did not match the "
                    f"expected structure. The expected structure was {self._types}, but the "
                    f"yielded element was {value!r:.200}.")
            out = []
            for v, s in zip(flat, flat_specs):
                try:
                    a = np.asarray(v, dtype=s.dtype.as_numpy_dtype)
                except (TypeError, ValueError, OverflowError):
                    raise env.error(
                        "TypeError: `generator` yielded an element that could not be "
                        f"converted to the expected type. The expected type was "
                        f"{s.dtype.name}, but the yielded element was {v!r:.200}.") from None
                if not s.shape.is_compatible_with(a.shape):
                    raise env.error(f"`generator` yielded an element of shape "
                                    f"{st.shape_str(a.shape)} where an element of shape "
                                    f"{st.shape_str(s.shape)} was expected.")
                out.append(a if a.flags.c_contiguous else a.copy(order="C"))
            yield out


def _shapes_like(types, shapes):
    """output_shapes as a nest of TensorShape matching `types`."""
    if not st.is_nested(types):
        return TensorShape(shapes)
    if isinstance(types, dict):
        if not isinstance(shapes, dict) or set(shapes) != set(types):
            raise ValueError(f"output_shapes {shapes!r} doesn't match the structure of "
                             f"output_types {types!r}")
        return type(types)((k, _shapes_like(types[k], shapes[k])) for k in types) if \
            type(types) is not dict else {k: _shapes_like(types[k], shapes[k]) for k in types}
    if not isinstance(shapes, (tuple, list)) or len(shapes) != len(types):
        raise ValueError(f"output_shapes {shapes!r} doesn't match the structure of "
                         f"output_types {types!r}")
    items = [_shapes_like(t, s) for t, s in zip(types, shapes)]
    return type(types)(*items) if hasattr(types, "_fields") else tuple(items)


def _flatten_up_to(template, value):
    """`value`'s leaves in the structure of `template`, or None if it doesn't match
    (a list stands for a tuple: generators often yield lists)."""
    if isinstance(template, dict):
        if not isinstance(value, dict) or set(value) != set(template):
            return None
        out = []
        for k in sorted(template):
            sub = _flatten_up_to(template[k], value[k])
            if sub is None:
                return None
            out += sub
        return out
    if isinstance(template, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(template):
            return None
        out = []
        for t, v in zip(template, value):
            sub = _flatten_up_to(t, v)
            if sub is None:
                return None
            out += sub
        return out
    return [value]


from . import transforms as _t
