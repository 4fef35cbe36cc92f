"""Running compiled code: JIT, native helpers, cache, loader."""
from .loader import load  # noqa: F401  (tfcompile.runtime.load: open an exported model)
