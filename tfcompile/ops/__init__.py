"""The op library: graph-building functions and their lowerings to the IR."""
