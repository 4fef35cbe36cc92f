"""The C side of an exported model: its signature (feeds, fetches, target,
memory), the C identifiers of its tensors, and the public header NAME.h,
rendered as text. The C source of the API behind the header is rendered by
tfcompile/aot_wrapper.py.

Nothing here compiles or runs anything; tfcompile/aot.py decides what the
signature is and builds the library from the texts rendered here.
"""
from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field

# dtype name -> (C element type, bytes per element, IR dtype)
C_TYPES = {
    "float32": ("float", 4, "f32"),
    "float64": ("double", 8, "f64"),
    "int32": ("int32_t", 4, "i32"),
    "int64": ("int64_t", 8, "i64"),
    "bool": ("uint8_t", 1, "bool"),
}

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto
if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while _Bool _Complex _Imaginary bool true false
int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t size_t NULL ctx
""".split())

SIGNATURE_FORMAT = "tfcompile-aot"
SIGNATURE_VERSION = 1


@dataclass
class TensorSpec:
    """One feed or fetch: the graph tensor's name, its C identifier, dtype, shape."""
    name: str                 # the tensor's name in the graph, e.g. "pl_image:0"
    ident: str                # C identifier fragment, e.g. "pl_image"
    dtype: str                # TF dtype name: float32, float64, int32, int64, bool
    shape: tuple

    @property
    def ctype(self) -> str:
        return C_TYPES[self.dtype][0]

    @property
    def count(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.count * C_TYPES[self.dtype][1]

    @property
    def shape_str(self) -> str:
        return "[" + ",".join(map(str, self.shape)) + "]"

    def to_json(self, index: int, prefix: str, kind: str) -> dict:
        return {"index": index, "name": self.name, "ident": self.ident,
                "dtype": self.dtype, "ctype": self.ctype, "shape": list(self.shape),
                "count": self.count, "bytes": self.nbytes,
                "macro": f"{prefix.upper()}_{kind.upper()}_{self.ident.upper()}"}


@dataclass
class Target:
    """What the library's code was built for."""
    triple: str
    cpu: str
    features: str
    host: bool                # built for the CPU this export ran on

    @property
    def enabled_features(self) -> list[str]:
        return [f[1:] for f in self.features.split(",") if f.startswith("+")]

    def describe(self) -> str:
        return f"{self.triple}, CPU {self.cpu}" + (" (the exporting host)" if self.host else "")

    def to_json(self) -> dict:
        return {"triple": self.triple, "cpu": self.cpu, "features": self.features,
                "host": self.host}


@dataclass
class Signature:
    """Everything the header, the wrapper, the JSON file and the loader need.

    `params` says what each parameter of the compiled entry is bound to:
    ("feed", feed index) or ("rng", counter index); the entry's results are
    the fetches, in order."""
    name: str
    feeds: list
    fetches: list
    target: Target
    arena_bytes: int = 0
    constant_bytes: int = 0
    stack_bytes: int = 0
    params: list = field(default_factory=list)
    rng_counters: int = 0
    version: str = ""

    def to_json(self) -> dict:
        return {
            "format": SIGNATURE_FORMAT,
            "format_version": SIGNATURE_VERSION,
            "name": self.name,
            "tfcompile_version": self.version,
            "feeds": [t.to_json(i, self.name, "feed") for i, t in enumerate(self.feeds)],
            "fetches": [t.to_json(i, self.name, "fetch") for i, t in enumerate(self.fetches)],
            "target": self.target.to_json(),
            "memory": {"constant_bytes": self.constant_bytes,
                       "arena_bytes": self.arena_bytes,
                       "stack_bytes_max": self.stack_bytes,
                       "feed_bytes": sum(t.nbytes for t in self.feeds),
                       "fetch_bytes": sum(t.nbytes for t in self.fetches)},
            "random_counters": self.rng_counters,
            "files": {"header": f"{self.name}.h", "shared_library": f"lib{self.name}.so",
                      "static_library": f"lib{self.name}.a"},
        }

    def json_text(self) -> str:
        return json.dumps(self.to_json(), indent=1) + "\n"


# ---------------------------------------------------------------- identifiers

def check_model_name(name) -> str:
    """The library name must be a C identifier usable as a prefix."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
        raise ValueError(f"export name {name!r} is not a C identifier: use letters, digits "
                         "and underscores, not starting with a digit (it prefixes every "
                         "function of the C API, e.g. NAME_run)")
    if name in C_KEYWORDS:
        raise ValueError(f"export name {name!r} is a C keyword or standard type name")
    if name.lower().startswith("tfc_"):
        raise ValueError(f"export name {name!r} starts with 'tfc_', the prefix of the "
                         "runtime's own helpers")
    return name


def c_identifiers(tensor_names, reserved=()) -> list[str]:
    """A distinct C identifier per tensor name ("dense/Relu:0" -> "dense_Relu").

    Distinct ignoring case too, since the header's macros are upper case, and
    from `reserved` and the names NAME_run's body uses."""
    out = []
    seen = {r.lower() for r in reserved} | {"feeds", "fetches", "ctx"}
    for name in tensor_names:
        base, _, index = name.rpartition(":")
        if not base or not index.isdigit():
            base, index = name, "0"
        ident = re.sub(r"[^A-Za-z0-9_]", "_", base).strip("_") or "tensor"
        if index != "0":
            ident += f"_{index}"
        if ident[0].isdigit():
            ident = "t_" + ident
        if ident in C_KEYWORDS:
            ident += "_"
        cand, k = ident, 2
        while cand.lower() in seen:
            cand, k = f"{ident}_{k}", k + 1
        seen.add(cand.lower())
        out.append(cand)
    return out


def c_string(s: str) -> str:
    """A C string literal of `s` (ASCII with escapes)."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= o < 127 and ch != "?":   # '?' would start a trigraph
            out.append(ch)
        elif o < 128:
            out.append(f"\\{o:03o}")
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8"))
    return '"' + "".join(out) + '"'


def _comment_safe(s: str) -> str:
    return s.replace("*/", "* /").replace("/*", "/ *")


# ---------------------------------------------------------------- header

def _run_params(sig: Signature) -> list[str]:
    params = [f"const {t.ctype} *{t.ident}" for t in sig.feeds]
    params += [f"{t.ctype} *{t.ident}" for t in sig.fetches]
    return params


def _signature_table(sig: Signature) -> list[str]:
    rows = []
    for kind, tensors, const in (("feed", sig.feeds, "const "), ("fetch", sig.fetches, "")):
        for i, t in enumerate(tensors):
            rows.append((f"{kind} {i}", t.ident, _comment_safe(t.name),
                         f"{t.dtype}{t.shape_str}", f"{const}{t.ctype} *", f"{t.nbytes} bytes"))
    if not rows:
        return []
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [r[c].ljust(widths[c]) if c < len(r) - 1 else r[c].rjust(widths[c])
                 for c in range(len(r))]
        lines.append("  ".join(cells).rstrip())
    return lines


def render_header(sig: Signature) -> str:
    n, N = sig.name, sig.name.upper()
    guard = f"{N}_H_"
    feed_bytes = sum(t.nbytes for t in sig.feeds)
    fetch_bytes = sum(t.nbytes for t in sig.fetches)
    run_args = ", ".join(t.ident for t in sig.feeds + sig.fetches)
    lines = [
        f"/* {n}.h: the C API of the model \"{n}\", compiled ahead of time by tfcompile"
        f" {sig.version}.",
        " *",
        f" * {n}_run(ctx, {run_args})" if run_args else f" * {n}_run(ctx)",
        " * takes the feeds, then the fetches, in this order; every buffer is a",
        " * C-contiguous (row-major) array owned by the caller, aligned as its",
        " * element type needs:",
        " *",
    ]
    lines += [f" *   {row}" for row in _signature_table(sig)] or [" *   (no feeds or fetches)"]
    lines += [
        " *",
        " * Memory:",
        f" *   constants (frozen weights), read-only data in the library: "
        f"{sig.constant_bytes} bytes",
        f" *   scratch arena per context, allocated by {n}_create: {sig.arena_bytes} bytes",
        f" *   stack per {n}_run, at most about: {sig.stack_bytes} bytes",
        f" *   caller-owned buffers: feeds {feed_bytes} bytes, fetches {fetch_bytes} bytes",
        " *",
        f" * Target: {sig.target.describe()}.",
    ]
    feats = sig.target.enabled_features
    if feats:
        lines.append(" * The code uses these CPU features:")
        lines += [f" *   {w}" for w in textwrap.wrap(" ".join(feats), 72)]
    elif sig.target.host:
        lines.append(" * The code uses the CPU's baseline features only.")
    else:
        lines.append(f" * The code uses the features of CPU {sig.target.cpu}, and no others.")
    lines += [
        " *",
        f" * Threads: separate contexts ({n}_create) may run at the same time on",
        " * different threads; one context must not be used by two threads at once.",
        " * Large loops are split across the library's own thread pool (shared by all",
        f" * contexts; size: {n}_set_num_threads, else $TFC_NUM_THREADS, else the",
        " * CPUs the process may use). While one run drives the pool, a run from",
        " * another thread executes its loops on its own thread.",
        " *",
        f" * Errors: {n}_run returns 0 on success. The compiled code itself cannot",
        " * fail; a non-zero return means bad arguments (a NULL context or buffer,",
        f" * a fetch buffer overlapping another buffer), and {n}_error(ctx) says which.",
    ]
    if sig.rng_counters:
        lines += [
            " *",
            f" * Random ops: each context keeps {sig.rng_counters} counter(s) that advance",
            " * on every run, so successive runs draw fresh values; a new context",
            " * starts the same sequence again.",
        ]
    lines += [
        " *",
        " * Build (DIR holds this header and the libraries):",
        f" *   cc app.c -IDIR -LDIR -l{n} -Wl,-rpath,DIR         (shared)",
        f" *   cc app.c -IDIR DIR/lib{n}.a -lm -lpthread         (static)",
        " */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        f"#define {N}_NUM_FEEDS {len(sig.feeds)}",
        f"#define {N}_NUM_FETCHES {len(sig.fetches)}",
        f"#define {N}_ARENA_BYTES {sig.arena_bytes}",
        f"#define {N}_CONSTANT_BYTES {sig.constant_bytes}",
        f"#define {N}_TARGET_TRIPLE {c_string(sig.target.triple)}",
        f"#define {N}_TARGET_CPU {c_string(sig.target.cpu)}",
        "",
    ]
    for kind, tensors in (("FEED", sig.feeds), ("FETCH", sig.fetches)):
        for i, t in enumerate(tensors):
            m = f"{N}_{kind}_{t.ident.upper()}"
            dims = "{" + ", ".join(map(str, t.shape)) + "}" if t.shape else "{0}"
            lines += [
                f"/* {kind.lower()} {i}: {_comment_safe(t.name)}, {t.dtype}{t.shape_str} */",
                f"#define {m}_INDEX {i}",
                f"#define {m}_RANK {len(t.shape)}",
                f"#define {m}_DIMS {dims}" + ("  /* rank 0: no dimensions */"
                                              if not t.shape else ""),
                f"#define {m}_SIZE {t.count}  /* elements */",
                f"#define {m}_BYTES {t.nbytes}",
                "",
            ]
    lines += [
        f"/* An opaque context: scratch memory, random counters, the last error. */",
        f"typedef struct {n} {n};",
        "",
        f"/* A new context, or NULL when memory is short. */",
        f"{n} *{n}_create(void);",
        f"/* Frees a context (NULL is ignored). */",
        f"void {n}_destroy({n} *ctx);",
        "",
        f"/* Runs the model: reads the feeds, writes the fetches. 0 on success; else",
        f"   see {n}_error. */",
        f"int {n}_run({n} *ctx" + "".join(f",\n        {p}" for p in _run_params(sig)) + ");",
        f"/* The same with arrays of buffers, in signature order (for generic callers). */",
        f"int {n}_run_buffers({n} *ctx, const void *const *feeds, void *const *fetches);",
        f"/* What went wrong in the last call on ctx (\"\" if it succeeded); never NULL. */",
        f"const char *{n}_error(const {n} *ctx);",
        "",
        f"/* Threads used by large loops, the caller's included; 0 restores the",
        f"   default. Applies to every context of this library. 0 on success. */",
        f"int {n}_set_num_threads({n} *ctx, int num_threads);",
        f"int {n}_get_num_threads(void);",
        "",
        "/* The signature at run time. Out-of-range indices give NULL, or -1. */",
    ]
    meta = []
    for kind in ("feed", "fetch"):
        meta += [
            (f"int {n}_num_{kind}{'es' if kind == 'fetch' else 's'}(void);", ""),
            (f"const char *{n}_{kind}_name(int i);", "the graph tensor's name"),
            (f"int {n}_{kind}_index(const char *name);", "by tensor or C name; -1 if none"),
            (f"const char *{n}_{kind}_dtype(int i);", '"float32", "int64", ...'),
            (f"int {n}_{kind}_rank(int i);", ""),
            (f"const int64_t *{n}_{kind}_dims(int i);", ""),
            (f"int64_t {n}_{kind}_size(int i);", "elements"),
            (f"int64_t {n}_{kind}_bytes(int i);", ""),
        ]
    meta += [
        (f"int64_t {n}_arena_bytes(void);", "scratch bytes per context"),
        (f"int64_t {n}_constant_bytes(void);", ""),
        (f"const char *{n}_target(void);", '"triple cpu features"'),
        (f"const char *{n}_signature_json(void);", f"the same JSON as {n}.json"),
    ]
    width = max(len(d) for d, _ in meta) + 2
    lines += [d.ljust(width) + f"/* {c} */" if c else d for d, c in meta]
    lines += [
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif  /* {guard} */",
        "",
    ]
    return "\n".join(lines)
