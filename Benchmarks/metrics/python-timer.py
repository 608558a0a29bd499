#!/usr/bin/python3
"""prometheus_client's text parser (Debian's python3-prometheus-client), timed on one file."""
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
times = []
samples = 0
for _ in range(runs):
    start = time.perf_counter()
    samples = sum(len(family.samples) for family in text_string_to_metric_families(text))
    times.append(time.perf_counter() - start)
times.sort()
median = times[len(times) // 2]
print(f"python prometheus_client: {len(text.encode()) / median / 1e6:.1f} MB/s, {samples / median:.0f} samples/s (median of {runs}: {median * 1000:.1f} ms, {samples} samples)")
