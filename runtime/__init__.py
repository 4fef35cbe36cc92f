"""Running compiled code: JIT, native helpers, cache, loader."""
