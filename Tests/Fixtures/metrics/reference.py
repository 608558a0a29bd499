#!/usr/bin/python3
"""The reference parser for the tests: prints every sample prometheus_client (Debian's
python3-prometheus-client) reads from a text exposition, as JSON lines: name, labels, value, timestamp."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
for family in text_string_to_metric_families(text):
    for sample in family.samples:
        value = sample.value
        if math.isnan(value):
            shown = "NaN"
        elif math.isinf(value):
            shown = "+Inf" if value > 0 else "-Inf"
        else:
            shown = repr(float(value))
        timestamp = sample.timestamp
        if timestamp is not None:
            timestamp = int(round(float(timestamp) * 1000)) if isinstance(timestamp, float) else int(timestamp)
        print(json.dumps({"family": family.name, "type": family.type, "name": sample.name,
                          "labels": dict(sample.labels), "value": shown, "timestamp": timestamp}, sort_keys=True))
