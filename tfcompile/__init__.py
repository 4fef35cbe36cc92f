"""tfcompile: the TensorFlow 1.x graph API, compiled through LLVM."""
