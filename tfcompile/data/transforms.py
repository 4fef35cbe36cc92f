"""The transformations of tf.data.Dataset: batching, shuffling, repetition,
slicing of the stream, caching, and the user-function ones (map, filter,
flat_map), with TF 1.15's static shapes and run-time errors.

Each is a Dataset whose `_elements(env)` reads its input's elements (flat lists
of numpy arrays) and yields its own. Moving and grouping elements happens here
in numpy; anything a user function computes is a compiled Session run
(functions.py)."""
from __future__ import annotations

import os

import numpy as np

from .. import dtypes as _dt
from ..graph import Tensor
from ..ops.random_ops import get_seed
from ..tensor_shape import TensorShape
from . import structure as st
from .dataset import Dataset, bool_arg, int_arg
from .functions import TracedFunction


def _batched(specs, n):
    return st.map_structure(lambda s: st.Spec(s.dtype, TensorShape([n]).concatenate(s.shape)),
                            specs)


# ---------------------------------------------------------------- batching

class BatchDataset(Dataset):
    """batch(batch_size, drop_remainder=False): consecutive elements stacked."""

    def __init__(self, input_dataset, batch_size, drop_remainder=False):
        self._input = input_dataset
        self._n = int_arg(batch_size, "batch_size")
        self._drop = bool_arg(drop_remainder, "drop_remainder")
        if isinstance(self._n, int) and self._n <= 0:
            raise ValueError(f"batch_size must be greater than zero, got {self._n}")
        lead = self._n if self._drop and isinstance(self._n, int) else None
        super().__init__(_batched(input_dataset._specs, lead), [input_dataset], [self._n])

    def _elements(self, env):
        n = env.scalar(self._n)
        if n <= 0:
            raise env.error("Batch size must be greater than zero.")
        buf = []
        for e in self._input._elements(env):
            buf.append(e)
            if len(buf) == n:
                yield _stack(env, buf)
                buf = []
        if buf and not self._drop:
            yield _stack(env, buf)


def _stack(env, elems):
    out = []
    for j in range(len(elems[0])):
        first = elems[0][j]
        block = np.empty((len(elems),) + first.shape, first.dtype)
        try:
            for i, e in enumerate(elems):   # faster than np.stack for many small rows
                block[i] = e[j]
            if any(e[j].shape != first.shape for e in elems):
                raise ValueError
        except ValueError:
            parts = [e[j] for e in elems]
            i = next(i for i, p in enumerate(parts) if p.shape != first.shape)
            raise env.error(
                f"Cannot batch tensors with different shapes in component {j}. First "
                f"element had shape {list(first.shape)} and element {i} had shape "
                f"{list(parts[i].shape)}.") from None
        out.append(block)
    return out


class PaddedBatchDataset(Dataset):
    """padded_batch: elements padded (at the end of each dimension) to
    `padded_shapes` (None or -1: the longest in the batch), then stacked."""

    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values=None,
                 drop_remainder=False):
        self._input = input_dataset
        self._n = int_arg(batch_size, "batch_size")
        self._drop = bool_arg(drop_remainder, "drop_remainder")
        specs = input_dataset._specs
        shapes = _match(specs, padded_shapes, "padded_shapes", _as_padded_shape)
        flat_specs, flat_shapes = st.flatten(specs), st.flatten(shapes)
        for s, p in zip(flat_specs, flat_shapes):
            if not _pads_to(p, s.shape):
                raise ValueError(f"The padded shape {p.shape} is not compatible with the "
                                 f"corresponding input component shape {s.shape}.")
        if padding_values is None:
            pads = [np.zeros((), s.dtype.as_numpy_dtype) for s in flat_specs]
        else:
            vals = st.flatten(_match(specs, padding_values, "padding_values", lambda v: v))
            pads = []
            for v, s in zip(vals, flat_specs):
                a = np.asarray(v.op.attrs["value"] if isinstance(v, Tensor) and
                               v.op.type == "Const" else v)
                if isinstance(v, Tensor) and v.op.type != "Const":
                    raise ValueError("padding_values must be constants")
                if a.ndim != 0:
                    raise ValueError(f"padding_values must be scalars, got shape {a.shape}")
                if isinstance(v, Tensor) and v.dtype != s.dtype:
                    raise TypeError(f"padding_values: expected {s.dtype.name}, got "
                                    f"{v.dtype.name}")
                pads.append(a.astype(s.dtype.as_numpy_dtype))
        self._pads = pads
        self._shapes = [p.dims for p in flat_shapes]
        lead = self._n if self._drop and isinstance(self._n, int) else None
        out = [st.Spec(s.dtype, TensorShape([lead] + list(p.dims)))
               for s, p in zip(flat_specs, flat_shapes)]
        super().__init__(st.pack_as(specs, out), [input_dataset], [self._n])

    def _elements(self, env):
        n = env.scalar(self._n)
        if n <= 0:
            raise env.error("Batch size must be greater than zero.")
        buf = []
        for e in self._input._elements(env):
            buf.append(e)
            if len(buf) == n:
                yield self._pad(env, buf)
                buf = []
        if buf and not self._drop:
            yield self._pad(env, buf)

    def _pad(self, env, elems):
        out = []
        for j, (dims, pad) in enumerate(zip(self._shapes, self._pads)):
            target = []
            for k, d in enumerate(dims):
                longest = max(e[j].shape[k] for e in elems)
                if d is not None and longest > d:
                    raise env.error("Attempted to pad to a smaller size than the input "
                                    "element.")
                target.append(longest if d is None else d)
            block = np.full([len(elems)] + target, pad, dtype=pad.dtype)
            for i, e in enumerate(elems):
                block[(i,) + tuple(slice(0, m) for m in e[j].shape)] = e[j]
            out.append(block)
        return out


class _PaddedShape:
    """A padded shape: known rank; None per dimension padded to the batch's longest."""

    def __init__(self, dims):
        self.dims = dims
        self.ndims = len(dims)
        self.shape = TensorShape(dims)


def _pads_to(p, shape):
    """TF's rule: same rank, and no known padded size below a known input size."""
    if shape.ndims is None:
        return True
    return p.ndims == shape.ndims and all(
        d is None or n is None or d >= n for d, n in zip(p.dims, shape.as_tuple()))


def _as_padded_shape(p):
    if isinstance(p, Tensor):
        from ..ops.op_util import constant_value
        v = constant_value(p)
        if v is None:
            raise ValueError("padded_shapes must be known when the dataset is built")
        p = v.tolist()
    if isinstance(p, TensorShape):
        if p.ndims is None:
            raise ValueError("padded_shapes must have a known rank")
        p = p.as_list()
    try:
        dims = [None if d is None or int(d) < 0 else int(d)
                for d in (p if isinstance(p, (list, tuple)) else [p])]
    except (TypeError, ValueError):
        raise ValueError(f"padded_shapes: {p!r} is not a shape") from None
    return _PaddedShape(dims)


def _match(specs, given, what, conv):
    """`given` (a nest matching the element's, where a shape-like list is a leaf)
    converted leaf by leaf."""
    if isinstance(specs, dict):
        if not isinstance(given, dict) or set(given) != set(specs):
            raise ValueError(f"{what} {given!r} doesn't match the element structure")
        return {k: _match(specs[k], given[k], what, conv) for k in specs}
    if isinstance(specs, tuple):
        if not isinstance(given, (tuple, list)) or len(given) != len(specs):
            raise ValueError(f"{what} {given!r} doesn't match the element structure")
        items = [_match(s, g, what, conv) for s, g in zip(specs, given)]
        return type(specs)(*items) if hasattr(specs, "_fields") else tuple(items)
    return conv(given)


class UnbatchDataset(Dataset):
    """unbatch: each element split along its first dimension."""

    def __init__(self, input_dataset):
        self._input = input_dataset
        flat = st.flatten(input_dataset._specs)
        for s in flat:
            if s.shape.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        specs = st.map_structure(lambda s: st.Spec(s.dtype, s.shape[1:]), input_dataset._specs)
        super().__init__(specs, [input_dataset])

    def _elements(self, env):
        for e in self._input._elements(env):
            n = e[0].shape[0]
            if any(a.shape[0] != n for a in e):
                raise env.error("Input element must have the same batch size in each "
                                f"component. Component 0 had size {n} but another had "
                                f"size {[a.shape[0] for a in e]}.")
            for i in range(n):
                yield [a[i] for a in e]


# ---------------------------------------------------------------- order and count

class ShuffleDataset(Dataset):
    """shuffle: TF's buffer algorithm (fill `buffer_size`, emit a random buffered
    element, refill its place). Seeded by (graph seed, op seed) as random ops are;
    with reshuffle_each_iteration (the default) each pass over it in one iterator
    (each repeat) draws a new order, and an initializer starts them over."""

    def __init__(self, input_dataset, buffer_size, seed=None, reshuffle_each_iteration=None):
        self._input = input_dataset
        self._buffer = int_arg(buffer_size, "buffer_size")
        if isinstance(self._buffer, int) and self._buffer <= 0:
            raise ValueError("buffer_size must be greater than zero.")
        s1, s2 = get_seed(seed)
        self._seeds = None if s1 is None and s2 is None else (s1 or 0, s2 or 0)
        self._reshuffle = True if reshuffle_each_iteration is None else \
            bool(reshuffle_each_iteration)
        super().__init__(input_dataset._specs, [input_dataset], [self._buffer])

    def _elements(self, env):
        size = env.scalar(self._buffer)
        if size <= 0:
            raise env.error("buffer_size must be greater than zero.")
        epoch = env.epochs.get(self, 0)
        env.epochs[self] = epoch + 1
        if self._seeds is None:
            rng = np.random.default_rng()
        else:
            rng = np.random.default_rng([*self._seeds, epoch if self._reshuffle else 0])
        pick = _Picker(rng)
        buf = []
        for e in self._input._elements(env):
            buf.append(e)
            if len(buf) == size:
                yield _take(buf, pick(len(buf)))
        while buf:
            yield _take(buf, pick(len(buf)))


class _Picker:
    """Uniform random indices below n, drawn from `rng` a block at a time (one
    generator call per element would cost more than the rest of the pipeline)."""

    def __init__(self, rng):
        self.rng = rng
        self.block = []

    def __call__(self, n):
        if not self.block:
            self.block = self.rng.random(1024).tolist()[::-1]
        return min(int(self.block.pop() * n), n - 1)


def _take(buf, i):
    e = buf[i]
    buf[i] = buf[-1]
    buf.pop()
    return e


class RepeatDataset(Dataset):
    """repeat(count=None): the input `count` times (None or -1: forever; a pass
    that yields nothing ends it)."""

    def __init__(self, input_dataset, count=None):
        self._input = input_dataset
        self._count = -1 if count is None else int_arg(count, "count")
        super().__init__(input_dataset._specs, [input_dataset], [self._count])

    def _elements(self, env):
        count = env.scalar(self._count)
        i = 0
        while count < 0 or i < count:
            empty = True
            for e in self._input._elements(env):
                empty = False
                yield e
            if empty:
                return
            i += 1


class TakeDataset(Dataset):
    """take(count): the first `count` elements (-1: all)."""

    def __init__(self, input_dataset, count):
        self._input = input_dataset
        self._count = int_arg(count, "count")
        super().__init__(input_dataset._specs, [input_dataset], [self._count])

    def _elements(self, env):
        count = env.scalar(self._count)
        if count == 0:
            return
        for i, e in enumerate(self._input._elements(env)):
            yield e
            if i + 1 == count:
                return


class SkipDataset(Dataset):
    """skip(count): all but the first `count` elements (-1: none)."""

    def __init__(self, input_dataset, count):
        self._input = input_dataset
        self._count = int_arg(count, "count")
        super().__init__(input_dataset._specs, [input_dataset], [self._count])

    def _elements(self, env):
        count = env.scalar(self._count)
        for i, e in enumerate(self._input._elements(env)):
            if count >= 0 and i >= count:
                yield e


class ShardDataset(Dataset):
    """shard(num_shards, index): every num_shards-th element from `index`."""

    def __init__(self, input_dataset, num_shards, index):
        self._input = input_dataset
        self._num = int_arg(num_shards, "num_shards")
        self._index = int_arg(index, "index")
        if isinstance(self._num, int) and self._num <= 0:
            raise ValueError("num_shards must be greater than zero.")
        if isinstance(self._num, int) and isinstance(self._index, int) and \
                not 0 <= self._index < self._num:
            raise ValueError("index must be between 0 and num_shards - 1.")
        super().__init__(input_dataset._specs, [input_dataset], [self._num, self._index])

    def _elements(self, env):
        num, index = env.scalar(self._num), env.scalar(self._index)
        if num <= 0 or not 0 <= index < num:
            raise env.error("index must be between 0 and num_shards - 1.")
        for i, e in enumerate(self._input._elements(env)):
            if i % num == index:
                yield e


class PrefetchDataset(Dataset):
    """prefetch: the input unchanged (elements are produced when asked for)."""

    def __init__(self, input_dataset, buffer_size):
        self._input = input_dataset
        int_arg(buffer_size, "buffer_size")
        super().__init__(input_dataset._specs, [input_dataset])

    def _elements(self, env):
        return self._input._elements(env)


class CacheDataset(Dataset):
    """cache(filename=''): the first complete pass is recorded (in the iterator,
    or with a filename in a file, read by every later iterator) and replayed."""

    def __init__(self, input_dataset, filename=""):
        self._input = input_dataset
        if isinstance(filename, Tensor):
            raise TypeError("cache: `filename` must be a Python string")
        self._file = os.fspath(filename) if filename else ""
        super().__init__(input_dataset._specs, [input_dataset])

    def _path(self):
        return self._file + ".npz"

    def _elements(self, env):
        done = env.caches.get(self)
        if done is None and self._file and os.path.exists(self._path()):
            done = env.caches[self] = _read_cache(self._path())
        if done is not None:
            yield from done
            return
        record = []
        for e in self._input._elements(env):
            record.append(e)
            yield e
        env.caches[self] = record
        if self._file and not os.path.exists(self._path()):
            _write_cache(self._path(), record)


def _write_cache(path, elems):
    arrays = {f"e{i}_{j}": a for i, e in enumerate(elems) for j, a in enumerate(e)}
    arrays["count"] = np.array([len(elems), len(elems[0]) if elems else 0], np.int64)
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)  # whole or absent: a reader never sees a partial file


def _read_cache(path):
    with np.load(path, allow_pickle=False) as z:
        n, m = (int(v) for v in z["count"])
        return [[z[f"e{i}_{j}"] for j in range(m)] for i in range(n)]


class ConcatenateDataset(Dataset):
    """concatenate: this dataset's elements, then `dataset`'s."""

    def __init__(self, input_dataset, dataset):
        a, b = input_dataset._specs, dataset._specs
        ta = st.map_structure(lambda s: s.dtype, a)
        tb = st.map_structure(lambda s: s.dtype, b) if st.same_structure(a, b) else None
        if tb is None:
            raise TypeError(f"Two datasets to concatenate have different structures "
                            f"{input_dataset.output_types} and {dataset.output_types}")
        if st.flatten(ta) != st.flatten(tb):
            raise TypeError(f"Two datasets to concatenate have different types {ta} "
                            f"and {tb}")
        specs = st.map_structure(
            lambda x, y: st.Spec(x.dtype, st.most_specific_compatible(x.shape, y.shape)), a, b)
        self._parts = [input_dataset, dataset]
        super().__init__(specs, self._parts)

    def _elements(self, env):
        for ds in self._parts:
            yield from ds._elements(env)


class EnumerateDataset(Dataset):
    """enumerate(start=0): (int64 index, element) pairs."""

    def __init__(self, input_dataset, start=0):
        self._input = input_dataset
        self._start = int_arg(start, "start")
        super().__init__((st.Spec(_dt.int64, []), input_dataset._specs), [input_dataset],
                         [self._start])

    def _elements(self, env):
        i = env.scalar(self._start)
        for e in self._input._elements(env):
            yield [np.array(i, np.int64)] + e
            i += 1


# ---------------------------------------------------------------- user functions

class MapDataset(Dataset):
    """map(map_func): map_func traced once; each element is one compiled run."""

    def __init__(self, input_dataset, map_func):
        self._input = input_dataset
        self._fn = TracedFunction(map_func, input_dataset._specs, "map")
        super().__init__(self._fn.output_specs, [input_dataset], self._fn.captures)

    def _elements(self, env):
        call = self._fn.call
        for e in self._input._elements(env):
            yield call(env, e)


class FilterDataset(Dataset):
    """filter(predicate): the elements where the traced predicate is True."""

    def __init__(self, input_dataset, predicate):
        self._input = input_dataset
        self._fn = TracedFunction(predicate, input_dataset._specs, "filter")
        out = self._fn.structure
        if not isinstance(out, Tensor) or out.dtype != _dt.bool or \
                not out.shape.is_compatible_with([]):
            raise ValueError("`predicate` must return a scalar boolean tensor.")
        super().__init__(input_dataset._specs, [input_dataset], self._fn.captures)

    def _elements(self, env):
        call = self._fn.call
        for e in self._input._elements(env):
            keep, = call(env, e)
            if keep.shape != ():
                raise env.error(f"`predicate` must return a scalar boolean tensor, got "
                                f"shape {list(keep.shape)}")
            if keep:
                yield e


class FlatMapDataset(Dataset):
    """flat_map(map_func): map_func (traced once) builds a dataset from an
    element; its elements follow one another. The inner dataset's captured
    tensors are computed for each element by one compiled run."""

    def __init__(self, input_dataset, map_func):
        self._input = input_dataset
        self._fn = TracedFunction(map_func, input_dataset._specs, "flat_map",
                                  returns_dataset=True)
        self._inner = self._fn.dataset
        super().__init__(self._inner._specs, [input_dataset], self._fn.captures)

    def _elements(self, env):
        call, keys = self._fn.call, self._fn.outputs
        for e in self._input._elements(env):
            inner = env.child(dict(zip(keys, call(env, e))))
            yield from self._inner._elements(inner)
