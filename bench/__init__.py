"""Benchmarks; a package so that ``python -m bench._w1.<system>`` resolves here and nowhere else."""
