"""The multi-level network: a facade reports upward to its parent and reads benchmarks back."""
