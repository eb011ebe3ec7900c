"""Benchmarks of Jiuyuan, run by ``make bench`` (``python -m bench``).

Each benchmark is a module with ``run(options) -> list[Row]``; every figure in a row is measured
in the same run as the baseline it is compared with, so the ratio holds on a noisy shared machine
even when the absolute figures wander.
"""
