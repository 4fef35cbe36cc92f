"""Rendering results: the side-by-side table (text or Markdown), the targets of
issue 8 with whether this run met them, and benchmarks/RESULTS.md.

Each peer cell is its median time and its ratio to tfcompile
(peer time / tfcompile time: above 1 means tfcompile is faster).
"""
from __future__ import annotations

from .harness import NOT_APPLICABLE, CaseResult, best_view
from .workloads import GROUPS

GROUP_TITLES = {"elementwise": "Fused elementwise chain", "matmul": "Matmul (float32)",
                "mlp": "MLP forward pass", "train": "MLP training step",
                "compile": "Compile and load", "dispatch": "Dispatch overhead"}


METHOD = (
    "Elementwise: y = relu(x*w + b)*0.5 + tanh(x), x a fed float32 vector, w and b fed "
    "float32 scalars; every library allocates its result. The floor rows are numpy copies "
    "moving the same bytes (x read, y written), into a preallocated and into a new array.",
    "Matmul: C = A @ B on fed float32 square matrices (TF XLA on resident tensors); "
    "GF/s = 2n^3 / time.",
    "MLP forward: logits = relu(x W1 + b1) W2 + b2 with the weights resident (variables, "
    "initializers or nn.Linear), x fed.",
    "Training step: mean sparse softmax cross-entropy, forward, backward and the update in "
    "one call: tfcompile `Session.run([loss, train_op])`; numpy by hand; PyTorch "
    "nn.Linear + loss.backward() + optimizer.step(); TF XLA one `tf.function(jit_compile="
    "True)` over tf.Variables with Adam written out; TF1 graph tf.compat.v1 optimizers. "
    "Adam: lr 1e-3, betas 0.9/0.999, epsilon 1e-8 (TF 1.x form); SGD: lr 0.1. The check "
    "compares the loss and each parameter's first update with numpy's.",
    "Compile: tfcompile in new processes (cold: empty TFC_CACHE_DIR; warm: the same "
    "directory again), the first `Session.run` of the step minus a later one; TF XLA: the "
    "first call of a new tf.function minus a later call. The other peers do not compile "
    "the step ahead of its first run and keep nothing on disk (blank cells).",
    "Dispatch: one call of y = x*2 + 1 on a fed float32 scalar (0-d array).",
    "Threads: numpy's BLAS through threadpoolctl, torch.set_num_threads, tfcompile's pool "
    "(ConfigProto and runtime.native.set_num_threads), onnxruntime's session options; "
    "TensorFlow sizes its pools once per process, so its columns appear only on rows run "
    "with that count.",
)


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


class _Notes:
    """Numbered footnotes, one number per distinct text."""

    def __init__(self):
        self.texts = []

    def ref(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"


def _cell(r: CaseResult, lib: str, notes: _Notes) -> str:
    o = r.outcomes.get(lib)
    if o is None:
        return ""
    if o.skipped == NOT_APPLICABLE:
        return ""
    if o.skipped:
        return "-" + notes.ref(f"{lib}: {o.skipped}")
    if o.error:
        return "FAILED" + notes.ref(f"{lib}, {r.label}: {o.error}")
    if o.seconds is None:
        text = "ran"
    else:
        text = fmt_time(o.seconds)
        base = r.outcomes.get("tfcompile")
        if r.flops:
            text += f", {r.flops / o.seconds / 1e9:.0f} GF/s"
        if lib != "tfcompile" and base is not None and base.seconds:
            text += f" ({o.seconds / base.seconds:.2f}x)"
    if o.ok is False:
        text += " WRONG" + notes.ref(
            f"{lib}, {r.label}: differs from numpy by {o.err:.2e} (relative; tolerance "
            f"{o.tol:.0e})")
    if o.note:
        text += notes.ref(f"{lib}, {r.label}: {o.note}")
    return text


def _load(r: CaseResult) -> str:
    return "" if r.other_load is None else f"{r.other_load:.1f}"


def _rows(results, libs, notes):
    head = ["workload", "threads"] + libs + ["others' load (cores)"]
    rows = []
    for g in GROUPS:
        for r in (r for r in results if r.group == g):
            rows.append([r.label, str(r.threads)] + [_cell(r, lib, notes) for lib in libs]
                        + [_load(r)])
    return head, rows


def text_table(results, libs) -> str:
    notes = _Notes()
    head, rows = _rows(results, libs, notes)
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    out += [""] + [f"[{i + 1}] {t}" for i, t in enumerate(notes.texts)]
    return "\n".join(out)


def markdown_table(results, libs) -> str:
    """One table per group, under its title; the footnotes after the last."""
    notes = _Notes()
    out = []
    for g in GROUPS:
        part = [r for r in results if r.group == g]
        if not part:
            continue
        head, rows = _rows(part, libs, notes)
        out += [f"### {GROUP_TITLES[g]}", "",
                "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        out.append("")
    out += [f"{i + 1}. {t}" for i, t in enumerate(notes.texts)]
    return "\n".join(out)


# ---------------------------------------------------------------- targets

def _find(results, group, *words):
    return [r for r in results if r.group == group and all(w in r.label for w in words)]


def _secs(r, lib):
    o = r.outcomes.get(lib)
    return o.seconds if o is not None and o.seconds and o.ok is not False else None


def targets(results) -> list:
    """(target, measured, met, load) for each target of issue 8 that this run
    measured. met is True, False, or None when the run lacks what the target
    needs; load is the most cores other processes kept busy while its rows were
    timed (None where unknown)."""
    out = []

    def add(text, measured, met, rows):
        loads = [r.other_load for r in rows if r.other_load is not None]
        out.append((text, measured, met, max(loads) if loads else None))

    # matmul >= 0.9x numpy's GFLOP/s at 512..2048, on 1 thread and on 2
    for threads in sorted({r.threads for r in _find(results, "matmul")}):
        rows = [r for r in _find(results, "matmul") if r.threads == threads
                and int(r.label.split()[-1].split("x")[0]) >= 512]
        cells, met = [], True
        for r in rows:
            n = r.label.split()[-1].split("x")[0]
            ours, npy = _secs(r, "tfcompile"), _secs(r, "numpy")
            if ours is None or npy is None:
                cells.append(f"{n}: n/a")
                met = None if met is not False else False
                continue
            cells.append(f"{n}: {npy / ours:.2f}")
            met = met if met is None else (met and npy / ours >= 0.9)
        if rows:
            add(f"matmul >= 0.9x numpy GFLOP/s at 512..2048, {threads} thread(s) "
                "(size: tfcompile GF/s / numpy GF/s)", ", ".join(cells), met, rows)

    # training step faster than every peer
    for opt in ("Adam", "SGD"):
        for r in _find(results, "train", "784-256-10", f"({opt})", "batch 128"):
            text = f"784-256-10 train step ({opt}), batch 128, faster than every peer"
            ours = _secs(r, "tfcompile")
            peers = {lib: _secs(r, lib) for lib in r.outcomes if lib != "tfcompile"}
            peers = {k: v for k, v in peers.items() if v}
            if ours is None or not peers:
                add(text, "n/a", None, [r])
                continue
            best = min(peers, key=peers.get)
            add(text, f"tfcompile {fmt_time(ours)}, fastest peer {best} "
                f"{fmt_time(peers[best])} ({peers[best] / ours:.2f}x)", peers[best] > ours, [r])

    for r in _find(results, "mlp", "784-256-10", "batch 128"):
        ours, npy = _secs(r, "tfcompile"), _secs(r, "numpy")
        add("784-256-10 forward, batch 128, faster than numpy",
            f"tfcompile {fmt_time(ours)}, numpy {fmt_time(npy)}" if ours and npy else "n/a",
            (npy > ours) if ours and npy else None, [r])
    for r in _find(results, "mlp", "784-256-10", "batch 1"):
        if r.label.endswith("batch 1"):
            ours = _secs(r, "tfcompile")
            add("784-256-10 forward, batch 1, < 10 us per Session.run",
                fmt_time(ours) if ours else "n/a", (ours < 10e-6) if ours else None, [r])

    limits = [("dispatch", "tiny graph", "Session.run overhead on a tiny graph <= 20 us", 20e-6),
              ("compile", "warm load", "warm disk-cache load of the MLP step <= 20 ms", 20e-3),
              ("compile", "cold compile", "cold compile of the MLP step <= 0.5 s", 0.5)]
    for group, word, text, limit in limits:
        for r in _find(results, group, word):
            ours = _secs(r, "tfcompile")
            add(text, fmt_time(ours) if ours else "n/a", (ours <= limit) if ours else None, [r])

    # issue 4's elementwise targets, on one thread
    for r in _find(results, "elementwise", "relu"):
        if r.threads != 1:
            continue
        ours, npy = _secs(r, "tfcompile"), _secs(r, "numpy")
        floors = [f for f in _find(results, "elementwise", "floor", "same bytes")
                  if f.threads == 1 and _secs(f, "numpy")]
        if ours and npy:
            add("elementwise chain >= 5x faster than numpy (1 thread)",
                f"{npy / ours:.2f}x", npy / ours >= 5, [r])
        if ours and floors:
            floor = _secs(floors[0], "numpy")
            add("elementwise chain within 1.3x of the memory-bound copy (1 thread)",
                f"{ours / floor:.2f}x", ours / floor <= 1.3, [r, floors[0]])
    return out


_VERDICT = {True: "met", False: "NOT met", None: "not measured"}


def _load_text(load):
    return "?" if load is None else f"{load:.1f}"


def targets_markdown(rows) -> str:
    out = ["| target | measured | verdict | others' load (cores) |", "|---|---|---|---|"]
    out += [f"| {t} | {m} | {_VERDICT[ok]} | {_load_text(ld)} |" for t, m, ok, ld in rows]
    return "\n".join(out)


def targets_text(rows) -> str:
    return "\n".join(f"  [{_VERDICT[ok]}] {t}: {m} (others' load {_load_text(ld)})"
                     for t, m, ok, ld in rows)


def results_markdown(results, libs, machine: dict, command: str, started: str,
                     elapsed_s: float, load: tuple, extra_notes=()) -> str:
    lines = ["# Benchmark results", "",
             "tfcompile next to its peers, measured in one run by the suite in this folder. "
             "Each cell is the median time of one call; a peer's ratio is its time over "
             "tfcompile's (above 1: tfcompile is faster). Timings alternate between the "
             "libraries so that each sees the same load. Every result is first checked "
             "against numpy's (WRONG marks a difference beyond tolerance). \"others' load\" "
             "is how many cores other processes on the machine kept busy while the row was "
             "timed (from /proc/stat, hypervisor steal included): rows timed while others "
             "used the cores, multi-threaded ones above all, are slower than the libraries "
             "can be.", "",
             "Command:", "", f"    {command}", "",
             f"Run {started}, {elapsed_s / 60:.1f} min. Load average (1 min) at start "
             f"{load[0]:.2f}, at end {load[1]:.2f}: the machine was shared with other "
             "users while the suite ran, so repeats were alternated and medians reported.", "",
             "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in machine.items()]
    lines += ["", "## How each row is measured", ""] + [f"- {m}" for m in METHOD]
    best = best_view(results)
    lines += ["", "## Results (medians)", "", markdown_table(results, libs), "",
              "## Targets (issue 8, and issue 4's elementwise benchmark)", "",
              "On the medians above:", "", targets_markdown(targets(results)), "",
              "On the fastest samples (below), which other processes disturb least:", "",
              targets_markdown(targets(best)), "",
              "## Results (fastest sample of each)", "",
              "The same run, each cell the fastest of its samples: closer to what each "
              "library does on an idle machine.", "", markdown_table(best, libs), ""]
    if extra_notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in extra_notes] + [""]
    return "\n".join(lines)
