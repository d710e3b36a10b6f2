"""Tiny timing harness: best-of-N medians, so that one noisy run on a 2-core machine matters less."""

import statistics
import time
from dataclasses import dataclass


@dataclass
class Timing:
    label: str
    seconds_per_op: float


def measure(label, operation, *, repeat=5, number=50):
    operation()  # warm caches and connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            operation()
        samples.append((time.perf_counter() - started) / number)
    return Timing(label, statistics.median(samples))


def report(name, subject, floor):
    ratio = subject.seconds_per_op / floor.seconds_per_op
    print(
        f"{name:<40} {subject.label}: {subject.seconds_per_op * 1e3:8.3f} ms/op   "
        f"{floor.label}: {floor.seconds_per_op * 1e3:8.3f} ms/op   ratio {ratio:6.1f}x"
    )
    return ratio
