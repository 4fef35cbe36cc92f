"""The `checkpoint` state file TF 1.x keeps beside checkpoints (text protobuf):
which prefix is the latest and which are kept. Written atomically."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

from .checkpoint_io import _atomic_write, checkpoint_exists


@dataclass
class CheckpointState:
    """TF's CheckpointState proto."""
    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list = field(default_factory=list)
    all_model_checkpoint_timestamps: list = field(default_factory=list)
    last_preserved_timestamp: float | None = None


def _quote(s: str) -> str:
    # Protobuf text format: printable ASCII as is, other bytes as octal.
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in "\"'\\":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


_SIMPLE_ESCAPES = {"n": 10, "r": 13, "t": 9, "a": 7, "b": 8, "f": 12,
                   "v": 11, "\\": 92, "'": 39, '"': 34, "?": 63}


def _unquote(token: str, where: str) -> str:
    if len(token) < 2 or token[0] not in "\"'" or token[-1] != token[0]:
        raise ValueError(f"{where}: expected a quoted string, got {token}")
    body, out, i = token[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1:i + 2]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt in ("x", "X"):
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                raise ValueError(f"{where}: bad \\x escape in {token}")
            out.append(int(body[i + 2:j], 16))
            i = j
        elif nxt and nxt in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8) & 0xFF)
            i = j
        else:
            raise ValueError(f"{where}: bad escape \\{nxt} in {token}")
    return out.decode("utf-8", errors="surrogateescape")


def _parse_state(text: str, path: str) -> CheckpointState:
    state = CheckpointState()
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{lineno}"
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{where}: expected 'field: value', got {line!r}")
        key, value = key.strip(), value.strip()
        if key == "model_checkpoint_path":
            state.model_checkpoint_path = _unquote(value, where)
        elif key == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(_unquote(value, where))
        elif key == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif key == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"{where}: unknown field {key!r}")
    return state


def _format_state(state: CheckpointState) -> str:
    lines = [f"model_checkpoint_path: {_quote(state.model_checkpoint_path)}"]
    lines += [f"all_model_checkpoint_paths: {_quote(p)}"
              for p in state.all_model_checkpoint_paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}"
              for t in state.all_model_checkpoint_timestamps]
    if state.last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {state.last_preserved_timestamp!r}")
    return "\n".join(lines) + "\n"


def _state_path(save_dir: str, latest_filename) -> str:
    return os.path.join(os.fspath(save_dir), latest_filename or "checkpoint")


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                            all_model_checkpoint_paths=None,
                            latest_filename: str | None = None,
                            all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None,
                            save_relative_paths: bool = False) -> None:
    """Atomically writes `save_dir/checkpoint` (TF's update_checkpoint_state).

    `model_checkpoint_path` is appended to `all_model_checkpoint_paths` if it
    is not already last. With a relative `save_dir`, relative paths are
    rewritten relative to it; with `save_relative_paths`, absolute ones too."""
    save_dir = os.fspath(save_dir)
    model = os.fspath(model_checkpoint_path)
    paths = [os.fspath(p) for p in (all_model_checkpoint_paths or [])]
    if not paths or paths[-1] != model:
        paths.append(model)
    if save_relative_paths:
        model = os.path.relpath(model, save_dir) if os.path.isabs(model) else model
        paths = [os.path.relpath(p, save_dir) if os.path.isabs(p) else p
                 for p in paths]
    elif not os.path.isabs(save_dir):
        # As TF: a relative save_dir means the given relative paths already
        # include it, and the state file stores them relative to save_dir.
        if not os.path.isabs(model):
            model = os.path.relpath(model, save_dir)
        paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir)
                 for p in paths]
    state = CheckpointState(model, paths,
                            list(all_model_checkpoint_timestamps or []),
                            last_preserved_timestamp)
    path = _state_path(save_dir, latest_filename)
    if os.path.abspath(path) == os.path.abspath(
            os.path.join(save_dir, state.model_checkpoint_path)):
        raise RuntimeError(
            f"Save path '{model_checkpoint_path}' conflicts with path used for "
            "checkpoint state.  Please use a different save path.")
    _atomic_write(path, lambda f: f.write(_format_state(state).encode("ascii")))


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None):
    """Reads `checkpoint_dir/checkpoint`; None if it is missing or unparsable
    (with a warning, as TF logs one). Relative paths come back joined to
    `checkpoint_dir`."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        warnings.warn(f"{path}: {e}; checkpoint state ignored", stacklevel=2)
        return None
    try:
        state = _parse_state(text, path)
    except ValueError as e:
        warnings.warn(f"{e}; checkpoint state ignored", stacklevel=2)
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    if not os.path.isabs(state.model_checkpoint_path):
        state.model_checkpoint_path = os.path.join(
            checkpoint_dir, state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [
        p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
        for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None):
    """The prefix of the newest checkpoint in `checkpoint_dir`, or None if
    the state file or that checkpoint's index is missing."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path:
        if checkpoint_exists(state.model_checkpoint_path):
            return state.model_checkpoint_path
        warnings.warn(f"Couldn't match files for checkpoint "
                      f"{state.model_checkpoint_path}", stacklevel=2)
    return None
