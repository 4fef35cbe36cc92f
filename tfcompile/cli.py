"""The `tfcompile` command line.

    tfcompile aot --meta model.meta --checkpoint model --feed pl_image:1x784 \\
                  --fetch logits --name mnist --out build/
    tfcompile bench [ARGS...]        # python -m benchmarks ARGS..., where it exists

`aot` imports a meta graph, restores a checkpoint into a session and exports
the fetches as a C library (tfcompile/aot.py), the way TensorFlow's tfcompile
takes a graph plus a config.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys


def _feed_arg(text):
    """NAME:SHAPE, split at the last colon (tensor names may hold one: x:0:1x784)."""
    name, sep, shape = text.rpartition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--feed {text!r}: expected NAME:SHAPE, like "
                                         "pl_image:1x784 (SHAPE 'scalar' for rank 0)")
    from .aot import parse_shape
    try:
        return name, parse_shape(shape, f"--feed {name}")
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _target_arg(text):
    """host, a CPU name (x86-64-v3), or TRIPLE:CPU[:FEATURES]."""
    if text == "host" or ":" not in text:
        return text
    parts = text.split(":")
    if len(parts) > 3 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(f"--target {text!r}: expected host, a CPU name, or "
                                          "TRIPLE:CPU[:FEATURES]")
    return tuple(parts)


def build_parser():
    p = argparse.ArgumentParser(prog="tfcompile", description="tfcompile tools")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    a = sub.add_parser("aot", help="export a trained model as a C library and header",
                       description="Imports a meta graph, restores a checkpoint and writes "
                       "DIR/NAME.h, DIR/libNAME.so, DIR/libNAME.a and DIR/NAME.json.")
    a.add_argument("--meta", required=True, help="the meta graph file (MODEL.meta)")
    a.add_argument("--checkpoint", help="checkpoint prefix, or a directory (its latest "
                   "checkpoint); needed when the graph has variables")
    a.add_argument("--feed", action="append", type=_feed_arg, required=True,
                   metavar="NAME:SHAPE", help="a fed tensor and its fixed shape, e.g. "
                   "pl_image:1x784 (repeat for more; the order of NAME_run's arguments)")
    a.add_argument("--fetch", action="append", required=True, metavar="NAME",
                   help="a fetched tensor, e.g. logits (repeat for more, in order)")
    a.add_argument("--name", required=True, help="the library name: a C identifier that "
                   "prefixes the API (NAME_run)")
    a.add_argument("--out", required=True, metavar="DIR", help="output directory")
    a.add_argument("--target", type=_target_arg, default=None,
                   help="host (default), a CPU name such as x86-64-v3, or "
                   "TRIPLE:CPU[:FEATURES]")
    a.add_argument("--no-optimize", action="store_true",
                   help="skip the IR optimization pipeline")
    a.add_argument("--keep-intermediates", action="store_true",
                   help="keep the generated C, LLVM IR and objects in DIR/NAME.build/")
    a.add_argument("--quiet", action="store_true")
    b = sub.add_parser("bench", help="run the benchmarks (python -m benchmarks)",
                       add_help=False)
    b.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _checkpoint_prefix(path):
    if path and os.path.isdir(path):
        from .train import latest_checkpoint
        prefix = latest_checkpoint(path)
        if prefix is None:
            raise ValueError(f"--checkpoint {path!r}: the directory has no checkpoint state "
                             "file naming a latest checkpoint")
        return prefix
    return path


def run_aot(args, log=print):
    import tfcompile as tf
    from .aot import export

    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(args.meta)
        sess = tf.Session(graph=graph)
        prefix = _checkpoint_prefix(args.checkpoint)
        if prefix:
            if saver is None:
                raise ValueError(f"--checkpoint given, but {args.meta} has no variables to "
                                 "restore")
            saver.restore(sess, prefix)
        elif saver is not None:
            raise ValueError(f"{args.meta} has variables: pass --checkpoint PREFIX with "
                             "their trained values")
        feeds = dict(args.feed)
        if len(feeds) != len(args.feed):
            raise ValueError("the same --feed is given twice")
        try:
            result = export(sess, feeds, args.fetch, args.name, args.out, target=args.target,
                            optimize=not args.no_optimize,
                            keep_intermediates=args.keep_intermediates)
        finally:
            sess.close()
    if not args.quiet:
        sig = result.signature
        log(f"exported {sig.name!r} for {sig.target.describe()} in "
            f"{result.stats['total_s']:.2f} s:")
        for path in result.files:
            log(f"  {path}")
        for kind, tensors in (("feed", sig.feeds), ("fetch", sig.fetches)):
            for t in tensors:
                log(f"  {kind:5s} {t.name:24s} {t.dtype}{t.shape_str}")
        log(f"  constants {sig.constant_bytes} bytes, arena {sig.arena_bytes} bytes")
        d = str(result.out_dir)
        log(f"build: cc app.c -I{d} -L{d} -l{sig.name} -Wl,-rpath,{d}")
    return result


def _runnable(module):
    """The folder to import `module` from when `python -m module` would run there
    (a package needs its __main__), else None."""
    try:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin:
            return None
        if spec.submodule_search_locations is not None:
            if importlib.util.find_spec(module + ".__main__") is None:
                return None
            return os.path.dirname(os.path.dirname(spec.origin))
        return os.path.dirname(spec.origin)
    except (ImportError, ValueError):
        return None


def run_bench(argv):
    where = _runnable("benchmarks")
    if where is None:
        print("tfcompile bench: no runnable 'benchmarks' module here (python -m benchmarks "
              "needs benchmarks/__main__.py); run a benchmark file directly, e.g. "
              "python benchmarks/bench_aot.py", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (where, env.get("PYTHONPATH")) if p)
    return subprocess.call([sys.executable, "-m", "benchmarks", *argv], env=env)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # everything after `bench` belongs to the benchmarks, options included
        return run_bench(argv[1:])
    args = build_parser().parse_args(argv)
    from .aot import ExportError
    from .errors import OpError
    try:
        run_aot(args)
    except (ValueError, TypeError, KeyError, OSError, ExportError, OpError) as e:
        msg = str(e) if isinstance(e, OpError) else (e.args[0] if e.args else str(e))
        print(f"tfcompile aot: error: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
