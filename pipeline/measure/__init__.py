"""Measuring runs: the bench command's measurements (bench), machine info (machine),
CPU / GPU / memory / thread / descriptor sampling (resources), long runs (soak)."""
