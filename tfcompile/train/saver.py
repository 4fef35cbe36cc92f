"""tf.train.Saver and the checkpoint helpers of tf.train.

A Saver copies variable values between a Session's storage and checkpoint
files (the format of `checkpoint_io`: crash-safe, no pickle), keeps the
`checkpoint` state file up to date, deletes checkpoints beyond `max_to_keep`
and writes the meta graph (`meta_graph.py`) beside each checkpoint.

Checkpoint keys are the variables' op names (`W`, `dense/kernel`, `W/Adam`)
or the keys of a dict `var_list`, as in TensorFlow. Restoring checks every
key, dtype and shape before it changes any variable, so a failed restore
leaves the session as it was.

Unlike TensorFlow, the Saver adds no save/restore ops to the graph: saving
and restoring are plain reads and writes of the session's variable buffers.
It does reserve its name scope (`save`, `save_1`, ...) so later names match
TensorFlow's, and `as_saver_def()` reports TF's op names.
"""
from __future__ import annotations

import logging
import os
import time

import numpy as np

from .. import checkpoint_io as _io
from ..errors import (DataLossError, FailedPreconditionError,
                      InvalidArgumentError, NotFoundError)
from ..graph import GraphKeys, Tensor, get_default_graph
from ..variables import Variable

__all__ = ["Saver", "SaverDef", "latest_checkpoint", "get_checkpoint_state",
           "update_checkpoint_state", "checkpoint_exists", "get_checkpoint_mtimes",
           "remove_checkpoint", "NewCheckpointReader", "list_variables",
           "load_variable", "load_checkpoint", "export_meta_graph",
           "import_meta_graph", "write_graph"]

_log = logging.getLogger("tfcompile")

CheckpointReader = _io.CheckpointReader


class SaverDef:
    """TF's SaverDef proto plus what this Saver needs to rebuild itself:
    `variables` maps each checkpoint key to its variable's op name."""

    V1, V2 = 1, 2
    _FIELDS = ("filename_tensor_name", "save_tensor_name", "restore_op_name",
               "max_to_keep", "sharded", "keep_checkpoint_every_n_hours",
               "version", "variables", "reshape")

    def __init__(self, filename_tensor_name="", save_tensor_name="",
                 restore_op_name="", max_to_keep=5, sharded=False,
                 keep_checkpoint_every_n_hours=10000.0, version=2,
                 variables=None, reshape=False):
        self.filename_tensor_name = filename_tensor_name
        self.save_tensor_name = save_tensor_name
        self.restore_op_name = restore_op_name
        self.max_to_keep = max_to_keep
        self.sharded = sharded
        self.keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self.version = version
        self.variables = dict(variables or {})
        self.reshape = reshape

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._FIELDS}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise ValueError(f"saver_def must be an object, got {d!r:.80}")
        unknown = set(d) - set(cls._FIELDS)
        if unknown:
            raise ValueError(f"saver_def has unknown fields {sorted(unknown)}")
        variables = d.get("variables") or {}
        if not (isinstance(variables, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in variables.items())):
            raise ValueError("saver_def.variables must map checkpoint keys to "
                             "variable op names")
        return cls(**d)

    def __repr__(self):
        return "SaverDef(" + ", ".join(f"{k}={getattr(self, k)!r}"
                                       for k in self._FIELDS) + ")"


def _strip_scope(name, scope):
    if scope and name.startswith(scope + "/"):
        return name[len(scope) + 1:]
    return name


def _var_name(v):
    return v.op.name


def _as_variable(v, key=None):
    """The Variable behind `v` (a Variable, or its VariableV2 tensor/op)."""
    if isinstance(v, Variable):
        return v
    op = v.op if isinstance(v, Tensor) else v
    found = getattr(op, "_variable", None)
    if isinstance(found, Variable):
        return found
    what = f" (key {key!r})" if key is not None else ""
    raise TypeError(f"Saver: var_list entries must be Variables, got "
                    f"{type(v).__name__} {v!r:.60}{what}")


def _var_list_to_dict(var_list):
    """{checkpoint key: Variable}, with TF's errors for duplicates."""
    if isinstance(var_list, dict):
        out = {}
        for key, v in var_list.items():
            if not isinstance(key, str):
                raise TypeError(f"Saver: var_list keys must be strings, got {key!r}")
            out[key] = _as_variable(v, key)
        seen = {}
        for key, v in out.items():
            if id(v) in seen:
                raise ValueError(f"The same saveable will be restored with two names: "
                                 f"{_var_name(v)} (keys {seen[id(v)]!r} and {key!r})")
            seen[id(v)] = key
        return out
    if not isinstance(var_list, (list, tuple, set)):
        raise TypeError(f"Variables to save should be passed in a dict or a list: "
                        f"{var_list}")
    out = {}
    for v in var_list:
        v = _as_variable(v)
        name = _var_name(v)
        if name in out:
            raise ValueError(f"At least two variables have the same name: {name}")
        out[name] = v
    return out


class Saver:
    """tf.train.Saver: saves and restores variables."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None,
                 restore_sequentially=False, saver_def=None, builder=None,
                 defer_build=False, allow_empty=False, write_version=2,
                 pad_step_number=False, save_relative_paths=False, filename=None):
        if defer_build and var_list:
            raise ValueError("If `var_list` is provided then build cannot be deferred. "
                             "Either set defer_build=False or var_list=None.")
        if saver_def is not None and not isinstance(saver_def, SaverDef):
            raise ValueError(f"saver_def must be a SaverDef: {saver_def!r}")
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._allow_empty = allow_empty
        self._write_version = write_version
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self.saver_def = saver_def
        self._graph = get_default_graph()
        self._vars = None            # {checkpoint key: Variable}
        self._is_built = False
        self._is_empty = None
        self._last_checkpoints = []  # [(path, time)], oldest first
        self._to_delete = []
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        if not defer_build:
            self.build()

    # ---- building
    def build(self):
        if self._is_built:
            return
        self._is_built = True
        if self.saver_def is not None:
            self._build_from_def()
            return
        var_list = self._var_list
        if var_list is None:
            var_list = (self._graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
                        + self._graph.get_collection("saveable_objects"))
        self._vars = _var_list_to_dict(var_list)
        if self._vars:
            self._graph = next(iter(self._vars.values())).graph
        if not self._vars:
            if not self._allow_empty:
                raise ValueError("No variables to save")
            self._is_empty = True
        else:
            self._is_empty = False
        # Reserves the scope TF's save ops would take ("save", "save_1", ...).
        scope = self._graph.unique_name(self._name or "save")
        self.saver_def = SaverDef(
            filename_tensor_name=f"{scope}/Const:0",
            save_tensor_name=f"{scope}/control_dependency:0",
            restore_op_name=f"{scope}/restore_all",
            max_to_keep=self._max_to_keep, sharded=self._sharded,
            keep_checkpoint_every_n_hours=self._keep_hours,
            version=self._write_version,
            variables={k: _var_name(v) for k, v in self._vars.items()},
            reshape=self._reshape)
        self._next_checkpoint_time = time.time() + self._keep_hours * 3600

    def _build_from_def(self):
        """A Saver for an imported graph; `name` is the import scope."""
        sd, scope = self.saver_def, self._name
        if scope:
            sd = SaverDef(**sd.to_dict())
            for f in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
                setattr(sd, f, f"{scope}/{getattr(sd, f)}")
            sd.variables = {k: f"{scope}/{n}" for k, n in sd.variables.items()}
            self.saver_def = sd
        self._max_to_keep = sd.max_to_keep
        self._keep_hours = sd.keep_checkpoint_every_n_hours or 10000.0
        self._sharded = sd.sharded
        self._reshape = sd.reshape
        self._write_version = sd.version
        # The imported graph had TF's save ops under this scope: keep it taken.
        parts = sd.restore_op_name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self._graph._names_in_use.setdefault("/".join(parts[:i]).lower(), 1)
        self._vars = {}
        for key, op_name in sd.variables.items():
            try:
                op = self._graph.get_operation_by_name(op_name)
            except KeyError:
                raise ValueError(f"saver_def names variable {op_name!r} (checkpoint key "
                                 f"{key!r}), which is not in the graph") from None
            self._vars[key] = _as_variable(op, key)
        self._is_empty = not self._vars
        self._next_checkpoint_time = time.time() + self._keep_hours * 3600

    def _check_ready(self, sess):
        if not self._is_built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")
        from ..session import BaseSession
        if not isinstance(sess, BaseSession):
            raise TypeError(f"'sess' must be a Session; {sess}")
        if sess._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if self._vars and sess.graph is not self._graph:
            raise ValueError("The Session's graph is not the graph this Saver's "
                             "variables belong to")

    # ---- checkpoint bookkeeping
    @property
    def last_checkpoints(self):
        """Paths of the not-yet-deleted checkpoints, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        assert isinstance(last_checkpoints, list)
        # Infinite time: never deleted by keep_checkpoint_every_n_hours logic.
        self._last_checkpoints = [(p, np.inf) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        assert isinstance(last_checkpoints_with_time, list)
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths):
        """After a restart, takes over existing checkpoints (with their mtimes)."""
        found = []
        for p in checkpoint_paths:
            t = get_checkpoint_mtimes([p])
            if t:
                found.append((p, t[0]))
        self.set_last_checkpoints_with_time(found)

    def _record(self, path):
        if not self._max_to_keep:
            return
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != path]
        self._last_checkpoints.append((path, time.time()))
        if len(self._last_checkpoints) > self._max_to_keep:
            self._to_delete.append(self._last_checkpoints.pop(0))

    def _delete_old(self, meta_graph_suffix):
        while self._to_delete:
            path, t = self._to_delete.pop(0)
            if t > self._next_checkpoint_time:
                # One checkpoint per keep_checkpoint_every_n_hours survives.
                self._next_checkpoint_time += self._keep_hours * 3600
                continue
            try:
                _io.remove_checkpoint(path, meta_graph_suffix)
            except OSError as e:
                _log.warning("Ignoring: %s", e)

    def as_saver_def(self):
        return self.saver_def

    def to_proto(self, export_scope=None):
        if export_scope is None or self.saver_def is None:
            return self.saver_def
        names = [self.saver_def.filename_tensor_name, self.saver_def.save_tensor_name,
                 self.saver_def.restore_op_name, *self.saver_def.variables.values()]
        if not all(n.startswith(export_scope + "/") for n in names):
            return None
        sd = SaverDef(**self.saver_def.to_dict())
        for f in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
            setattr(sd, f, _strip_scope(getattr(sd, f), export_scope))
        sd.variables = {k: _strip_scope(n, export_scope) for k, n in sd.variables.items()}
        return sd

    @staticmethod
    def from_proto(saver_def, import_scope=None):
        return Saver(saver_def=saver_def, name=import_scope)

    # ---- saving
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Writes the checkpoint `save_path` (`save_path-<step>` with a global
        step), its meta graph and the state file; returns the prefix."""
        self._check_ready(sess)
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)) or isinstance(
                    global_step, bool):
                global_step = int(sess.run(global_step))
            step = f"{int(global_step):08d}" if self._pad_step_number else int(global_step)
            checkpoint_file = f"{save_path}-{step}"
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError(f"'latest_filename' collides with 'save_path': "
                                 f"'{latest_filename}' and '{save_path}'")
        save_dir = os.path.dirname(save_path)
        if save_dir and not os.path.isdir(save_dir):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        if self._is_empty:
            return None
        values = {key: self._value_of(sess, v) for key, v in self._vars.items()}
        _io.write_checkpoint(checkpoint_file, values)
        if write_meta_graph:
            self.export_meta_graph(f"{checkpoint_file}.{meta_graph_suffix}",
                                   graph=sess.graph)
        if write_state:
            self._record(checkpoint_file)
            _io.update_checkpoint_state(
                save_dir or os.curdir, checkpoint_file,
                all_model_checkpoint_paths=self.last_checkpoints,
                latest_filename=latest_filename,
                save_relative_paths=self._save_relative_paths)
            self._delete_old(meta_graph_suffix)
        return checkpoint_file

    @staticmethod
    def _value_of(sess, var):
        """The variable's current value, straight from the session's storage."""
        arr = sess._storage.get(var.op)
        if arr is None:
            raise FailedPreconditionError(
                None, var.op, f"Attempting to use uninitialized value {var.op.name}")
        return arr

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False,
                          clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False, graph=None):
        from ..meta_graph import export_meta_graph
        return export_meta_graph(filename, saver_def=self.to_proto(export_scope),
                                 collection_list=collection_list, as_text=as_text,
                                 graph=graph if graph is not None else self._graph,
                                 export_scope=export_scope)

    # ---- restoring
    def restore(self, sess, save_path):
        """Loads every variable of this Saver from the checkpoint `save_path`.

        Nothing changes unless every key is present with a matching dtype and
        shape: NotFoundError for a missing key, InvalidArgumentError for a
        wrong dtype or shape, DataLossError for a damaged checkpoint."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        self._check_ready(sess)
        prefix = os.fspath(save_path)
        if not _io.checkpoint_exists(prefix):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {prefix}")
        _log.info("Restoring parameters from %s", prefix)
        if self._is_empty:
            return
        try:
            reader = _io.CheckpointReader(prefix)
        except _io.CheckpointError as e:
            raise DataLossError(None, None, f"Unable to restore from checkpoint "
                                f"{prefix}: {e}") from e
        shapes = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
        for key, var in self._vars.items():
            if key not in shapes:
                raise NotFoundError(
                    None, var.op,
                    "Restoring from checkpoint failed. This is most likely due to a "
                    "Variable name or other graph key that is missing from the "
                    "checkpoint. Please ensure that you have not altered the graph "
                    "expected based on the checkpoint. Original error:\n\n"
                    f"Key {key} not found in checkpoint {prefix} (variable "
                    f"{var.op.name})")
            self._check_compatible(key, var, dtypes[key], shapes[key], prefix)
        try:
            values = reader.read_all(list(self._vars))
        except _io.CheckpointError as e:
            raise DataLossError(None, None, f"Unable to restore from checkpoint "
                                f"{prefix}: {e}") from e
        for key, var in self._vars.items():
            value = values[key]
            if list(value.shape) != _static_dims(var, value.shape):
                value = value.reshape(_static_dims(var, value.shape))
            sess._load_variable(var, value)

    def _check_compatible(self, key, var, dtype, shape, prefix):
        mismatch = ("Restoring from checkpoint failed. This is most likely due to a "
                    "mismatch between the current graph and the graph from the "
                    "checkpoint. Please ensure that you have not altered the graph "
                    "expected based on the checkpoint. Original error:\n\n")
        want = np.dtype(var.dtype.as_numpy_dtype)
        if np.dtype(dtype) != want:
            raise InvalidArgumentError(
                None, var.op, mismatch + f"tensor_name = {key}; expected dtype "
                f"{_tf_type(want)} does not equal original dtype {_tf_type(dtype)} "
                f"(variable {var.op.name}, checkpoint {prefix})")
        static = var.shape
        if static.is_compatible_with(shape):
            return
        if self._reshape and static.is_fully_defined() and \
                static.num_elements() == int(np.prod(shape, dtype=np.int64)):
            return
        lhs = "[" + ",".join("?" if d is None else str(d) for d in static.as_list()) \
            + "]" if static.ndims is not None else "<unknown>"
        raise InvalidArgumentError(
            None, var.op, mismatch + f"Assign requires shapes of both tensors to "
            f"match. lhs shape= {lhs} rhs shape= [{','.join(str(d) for d in shape)}] "
            f"(variable {var.op.name}, checkpoint key {key}, checkpoint {prefix})")


def _static_dims(var, fallback):
    s = var.shape
    if s.is_fully_defined():
        return s.as_list()
    return list(fallback)


def _tf_type(np_dtype):
    return {"float32": "float", "float64": "double"}.get(np.dtype(np_dtype).name,
                                                         np.dtype(np_dtype).name)


# ---------------------------------------------------------------------------
# Checkpoint helpers of tf.train

def latest_checkpoint(checkpoint_dir, latest_filename=None):
    return _io.latest_checkpoint(checkpoint_dir, latest_filename)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    return _io.get_checkpoint_state(checkpoint_dir, latest_filename)


def update_checkpoint_state(save_dir, model_checkpoint_path,
                            all_model_checkpoint_paths=None, latest_filename=None,
                            all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    _io.update_checkpoint_state(save_dir, model_checkpoint_path,
                                all_model_checkpoint_paths, latest_filename,
                                all_model_checkpoint_timestamps,
                                last_preserved_timestamp)


def checkpoint_exists(checkpoint_prefix):
    return _io.checkpoint_exists(checkpoint_prefix)


def get_checkpoint_mtimes(checkpoint_prefixes):
    """Modification times of the checkpoints' index files (missing: skipped)."""
    out = []
    for p in checkpoint_prefixes:
        try:
            out.append(os.path.getmtime(_io.index_path(p)))
        except OSError:
            pass
    return out


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=2,
                      meta_graph_suffix="meta"):
    _io.remove_checkpoint(checkpoint_prefix, meta_graph_suffix)


def _checkpoint_prefix(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in "
                             f"given directory {path}")
        return found
    return path


def NewCheckpointReader(filepattern):  # noqa: N802 - TF's name
    """A reader of one checkpoint (TF's NewCheckpointReader)."""
    prefix = os.fspath(filepattern)
    if not _io.checkpoint_exists(prefix):
        raise NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: "
                            f"Failed to find any matching files for {prefix}")
    try:
        return _io.CheckpointReader(prefix)
    except _io.CheckpointError as e:
        raise DataLossError(None, None, f"Unable to open checkpoint {prefix}: {e}") from e


def load_checkpoint(ckpt_dir_or_file):
    return NewCheckpointReader(_checkpoint_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file):
    """[(name, shape)] of the tensors in a checkpoint, sorted by name."""
    reader = load_checkpoint(ckpt_dir_or_file)
    return sorted(reader.get_variable_to_shape_map().items())


def load_variable(ckpt_dir_or_file, name):
    """The value of the tensor `name` (a trailing ":0" is ignored) in a checkpoint."""
    if name.endswith(":0"):
        name = name[:-2]
    reader = load_checkpoint(ckpt_dir_or_file)
    if not reader.has_tensor(name):
        raise NotFoundError(None, None, f"Key {name} not found in checkpoint "
                            f"{reader.prefix}")
    return reader.get_tensor(name)


def export_meta_graph(*args, **kwargs):
    from ..meta_graph import export_meta_graph as f
    return f(*args, **kwargs)


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None,
                      **kwargs):
    from ..meta_graph import import_meta_graph as f
    return f(meta_graph_or_file, clear_devices, import_scope, **kwargs)


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    from ..meta_graph import write_graph as f
    return f(graph_or_graph_def, logdir, name, as_text)
