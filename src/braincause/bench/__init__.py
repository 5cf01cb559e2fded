"""Benchmarks on the embedded world: null-subject calibration (``null``), the ground-truth
benchmark (``groundtruth``, ``braincause benchmark``) and performance-measurement helpers
(``perf``)."""
