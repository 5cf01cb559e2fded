"""Benchmarks on the embedded world (calibration on the null subject today)."""
