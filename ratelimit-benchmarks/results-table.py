#!/usr/bin/env python3
"""Turns JMH JSON results of TryAcquireBenchmark into markdown tables.

Usage: results-table.py RESULT.json [RESULT.json ...]

Files from runs without a profiler give the ns/op table, one column per thread count, with the
ratio of ours to the fastest of the three peers for each path and thread count. Files from runs
with -prof gc give the bytes allocated per call (gc.alloc.rate.norm). Ratios are only meaningful
between numbers from the same run on the same machine.
"""

import json
import math
import sys

PEERS = ["Bucket4j", "Resilience4j", "Guava"]
IMPLEMENTATIONS = ["Ours"] + PEERS
NAMES = {"Ours": "ratelimit (ours)", "Bucket4j": "Bucket4j", "Resilience4j": "Resilience4j", "Guava": "Guava"}
PATHS = ["permitted", "rejected"]
BASELINES = {"baselineNanoTime": "System.nanoTime()", "baselineCas": "CAS on one shared counter"}
# ours / fastest peer on the permitted path, by thread count: the targets of the issue
TARGETS = {1: 0.35, 2: 0.30}


def load(paths):
    """Returns ({(method, threads): result}, {(method, threads): result}) for timing and gc runs."""
    timing, gc = {}, {}
    for path in paths:
        with open(path) as file:
            for result in json.load(file):
                method = result["benchmark"].rsplit(".", 1)[1]
                secondary = result.get("secondaryMetrics", {})
                target = gc if "gc.alloc.rate.norm" in secondary else timing
                target[(method, result["threads"])] = result
    return timing, gc


def number(value):
    return float(value)  # JMH writes NaN as a string


def time_cell(result):
    if result is None:
        return "-"
    metric = result["primaryMetric"]
    score, error = number(metric["score"]), number(metric["scoreError"])
    return f"{score:.1f}" if math.isnan(error) else f"{score:.1f} ± {error:.1f}"


def score(result):
    return number(result["primaryMetric"]["score"])


def ratio_cell(timing, path, threads):
    ours = timing.get((path + "Ours", threads))
    peers = [(score(timing[(path + p, threads)]), p) for p in PEERS if (path + p, threads) in timing]
    if ours is None or not peers:
        return "-"
    fastest, name = min(peers)
    ratio = score(ours) / fastest
    cell = f"**{ratio:.2f}x** of {name}"
    target = TARGETS.get(threads) if path == "permitted" else None
    if target is not None:
        cell += f" ({'meets' if ratio <= target else 'misses'} target ≤ {target}x)"
    return cell


def timing_table(timing):
    threads = sorted({t for (_, t) in timing})
    if not threads:
        return []
    header = ["Benchmark"] + [f"{t} thread{'s' if t > 1 else ''}, ns/op" for t in threads]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for path in PATHS:
        for impl in IMPLEMENTATIONS:
            cells = [time_cell(timing.get((path + impl, t))) for t in threads]
            lines.append(f"| {path}: {NAMES[impl]} | " + " | ".join(cells) + " |")
        cells = [ratio_cell(timing, path, t) for t in threads]
        lines.append(f"| {path}: ours / fastest peer | " + " | ".join(cells) + " |")
    for method, name in BASELINES.items():
        cells = [time_cell(timing.get((method, t))) for t in threads]
        lines.append(f"| baseline: {name} | " + " | ".join(cells) + " |")
    return lines


def gc_tables(gc):
    lines = []
    for threads in sorted({t for (_, t) in gc}):
        lines += ["", f"Bytes allocated per call (gc.alloc.rate.norm, {threads} thread{'s' if threads > 1 else ''}):", ""]
        lines += ["| Implementation | permitted, B/op | rejected, B/op |", "|---|---|---|"]
        for impl in IMPLEMENTATIONS:
            cells = []
            for path in PATHS:
                result = gc.get((path + impl, threads))
                norm = result and result["secondaryMetrics"]["gc.alloc.rate.norm"]
                cells.append("-" if norm is None else f"{number(norm['score']):.1f}")
            lines.append(f"| {NAMES[impl]} | " + " | ".join(cells) + " |")
    return lines


def warnings(results):
    """A permitting benchmark that denied calls measured the wrong path."""
    lines = []
    for (method, threads), result in sorted(results.items()):
        rejections = result.get("secondaryMetrics", {}).get("rejections")
        if rejections is not None and number(rejections["score"]) > 0:
            lines.append(f"WARNING: {method} with {threads} thread(s) denied {number(rejections['score']):.0f} "
                         "calls: it did not measure the permitted path.")
    return lines


def main(paths):
    if not paths:
        sys.exit(__doc__)
    timing, gc = load(paths)
    lines = timing_table(timing) + gc_tables(gc)
    problems = warnings(timing) + warnings(gc)
    print("\n".join(lines + ([""] + problems if problems else [])))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
