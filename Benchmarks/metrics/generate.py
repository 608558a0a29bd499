#!/usr/bin/env python3
"""Writes a histogram-heavy Prometheus exposition of about 5 MB (deterministic), the shape of a
busy service's /metrics: request latency histograms per route, method and code, a few counters
and gauges with labels, HELP and TYPE lines."""
import random
import sys

random.seed(42)
out = []
buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
routes = [f"/api/v1/resource{i}" for i in range(60)]
for family in range(8):
    name = f"app_request_duration_seconds_{family}"
    out.append(f"# HELP {name} Time spent serving requests, by route, method and status code.")
    out.append(f"# TYPE {name} histogram")
    for route in routes:
        for method in ("GET", "POST"):
            for code in ("200", "404", "500"):
                labels = f'route="{route}",method="{method}",code="{code}",instance="10.0.{family}.{random.randrange(255)}:8080"'
                total = 0
                for bound in buckets:
                    total += random.randrange(1000)
                    out.append(f'{name}_bucket{{{labels},le="{bound}"}} {total}')
                out.append(f'{name}_bucket{{{labels},le="+Inf"}} {total}')
                out.append(f"{name}_sum{{{labels}}} {random.random() * total:.6f}")
                out.append(f"{name}_count{{{labels}}} {total}")
for family in range(20):
    name = f"app_events_total_{family}"
    out.append(f"# HELP {name} Events by kind.")
    out.append(f"# TYPE {name} counter")
    for kind in range(50):
        out.append(f'{name}{{kind="k{kind}",shard="{kind % 7}"}} {random.randrange(10**9)}')
    gauge = f"app_queue_depth_{family}"
    out.append(f"# TYPE {gauge} gauge")
    for queue in range(50):
        out.append(f'{gauge}{{queue="q{queue}"}} {random.random() * 1000:.3f}')
sys.stdout.write("\n".join(out) + "\n")
