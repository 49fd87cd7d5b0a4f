"""Workload W1 ("router + 3-step chain"): one module per measured system, driven by ``bench/w1.py``."""
