"""Codegen from the IR to LLVM IR (CPU) and PTX (NVIDIA)."""
