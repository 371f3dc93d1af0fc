#!/usr/bin/env python3
"""Turns JMH JSON results of the ratelimit benchmarks into markdown tables.

Usage: results-table.py RESULT.json [RESULT.json ...]

The files may come from any of the benchmark classes, in any mix; each class present gets its
tables, one column per thread count:

- TryAcquireBenchmark: ns/op, with the ratio of ours to the fastest of the three peers for each
  path and thread count; files from runs with -prof gc give the bytes allocated per call
  (gc.alloc.rate.norm).
- RealisticLimitsBenchmark: ns/op of each path real limits take (saturated, small capacity,
  keyed uniform and Zipf; the drained limiter is TryAcquireBenchmark's rejected path), with the ratio of ours to the fastest peer on that path and
  the issue's targets (at most 0.35x with 1 thread, 0.5x with 2).
- RateLimitedProxyBenchmark: ns/op of the plain call, of our @RateLimited proxy, of Resilience4j's
  @RateLimiter aspect and of each limiter alone, the overhead each proxy adds to the plain call,
  and the ratio of ours to Resilience4j's (target: at most 1); bytes per call from -prof gc runs.
- KafkaBackendBenchmark: decisions per second (all, and permitted) of the in-memory bucket, the
  Kafka backend and Bucket4j on Redis, with the ratio of the Kafka backend's permitted decisions to
  the in-memory bucket's (target: at least 0.5) and to Bucket4j on Redis'.

Ratios are only meaningful between numbers from the same run on the same machine.
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

# RateLimitedProxyBenchmark
PROXY_ROWS = [
    ("plainCall", "plain call, no proxy"),
    ("proxyOurs", "@RateLimited proxy (ours)"),
    ("proxyOursObservedNoHandler", "@RateLimited proxy (ours), ObservationRegistry without handlers"),
    ("proxyOursObserved", "@RateLimited proxy (ours), an observation per call recorded as a timer"),
    ("proxyResilience4j", "Resilience4j @RateLimiter aspect"),
    ("limiterOurs", "limiter alone: ours, tryAcquire()"),
    ("limiterResilience4j", "limiter alone: Resilience4j, acquirePermission()"),
]
# our added overhead / Resilience4j's: the target of the issue
PROXY_TARGET = 1.0

# KafkaBackendBenchmark
DEFAULT_HORIZON = "500"
KAFKA_ROWS = [("inMemory", "in-memory token bucket (ours)"), ("kafka", "Kafka backend (ours), one instance"),
              ("bucket4jRedis", "Bucket4j on Redis (Lettuce, CAS)")]
# Kafka backend / in-memory, permitted decisions per second: the target of the issue
KAFKA_TARGET = 0.5


def load(paths):
    """Returns {class: (timing, gc)}, each {(method, threads): result}, for timing and gc runs.

    A method run with several values of a parameter (say -p leaseHorizonMillis=200,500) is keyed
    "method[name=value]" for every value after the first seen, so that no result is lost.
    """
    classes = {}
    for path in paths:
        with open(path) as file:
            for result in json.load(file):
                owner, method = result["benchmark"].rsplit(".", 1)
                timing, gc = classes.setdefault(owner.rsplit(".", 1)[-1], ({}, {}))
                secondary = result.get("secondaryMetrics", {})
                target = gc if "gc.alloc.rate.norm" in secondary else timing
                target[(variant(method, result), result["threads"])] = result
    return classes


def variant(method, result):
    """The method, with the lease horizon when it is not the default one; tenant workloads with their
    per-tenant limit."""
    params = result.get("params", {})
    if "limit" in params:
        return f"{method}[{params['limit']}]"
    if "keys" in params:
        return f"{method}[{params['keys']}]"
    if "smallCapacity" in params:
        # the standard run's capacity of 10 is the row of the issue; others (-p smallCapacity=50) apart
        capacity = params["smallCapacity"]
        return method if capacity == "10" else f"{method}[capacity {capacity}]"
    if method.endswith("Tenants"):
        return f"{method}[{params.get('tenants')} tenants, {params.get('tenantRate')}/s burst {params.get('tenantCapacity')}]"
    horizon = params.get("leaseHorizonMillis")
    return method if horizon in (None, DEFAULT_HORIZON) else f"{method}[{horizon}]"


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


def thread_header(threads, unit):
    header = ["Benchmark"] + [f"{t} thread{'s' if t > 1 else ''}, {unit}" for t in threads]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]


# ---- RealisticLimitsBenchmark ---------------------------------------------------------------------

REALISTIC_PATHS = [
    ("saturated", "[1M]", "saturated, 1,000,000/s burst 1,000"),
    ("saturated", "[1K]", "saturated, 1,000/s burst 10"),
    ("small", "", "small capacity (10) at 10^8/s"),
    ("small", "[capacity 50]", "small capacity (50) at 10^8/s"),
    ("keyed", "[uniform]", "10,000 keys, uniform"),
    ("keyed", "[zipf]", "10,000 keys, Zipf(1.1)"),
]
# ours / fastest peer on every path, by thread count: the targets of the issue
REALISTIC_TARGETS = {1: 0.35, 2: 0.5}


def realistic_table(timing):
    threads = sorted({t for (_, t) in timing})
    if not threads:
        return []
    lines = thread_header(threads, "ns/op")
    for path, suffix, title in REALISTIC_PATHS:
        if not any((path + impl + suffix, t) in timing for impl in IMPLEMENTATIONS + ["ExactBaseline"] for t in threads):
            continue  # not in this run (a -p smallCapacity=50 row, say)
        for impl in IMPLEMENTATIONS:
            if any((path + impl + suffix, t) in timing for t in threads):
                cells = [time_cell(timing.get((path + impl + suffix, t))) for t in threads]
                lines.append(f"| {title}: {NAMES[impl]} | " + " | ".join(cells) + " |")
        cells = []
        for t in threads:
            ours = timing.get((path + "Ours" + suffix, t))
            peers = [(score(timing[(path + p + suffix, t)]), p) for p in PEERS if (path + p + suffix, t) in timing]
            if ours is None or not peers:
                cells.append("-")
                continue
            fastest, name = min(peers)
            ratio = score(ours) / fastest
            target = REALISTIC_TARGETS.get(t)
            verdict = "" if target is None else f" ({'meets' if ratio <= target else 'misses'} target ≤ {target}x)"
            cells.append(f"**{ratio:.2f}x** of {name}{verdict}")
        lines.append(f"| {title}: ours / fastest peer | " + " | ".join(cells) + " |")
        if any((path + "ExactBaseline" + suffix, t) in timing for t in threads):
            cells = [time_cell(timing.get((path + "ExactBaseline" + suffix, t))) for t in threads]
            lines.append(f"| {title}: exact baseline (not a limiter: one padded count, no pool) | " + " | ".join(cells) + " |")
        if any((path + "ChoiceOnly" + suffix, t) in timing for t in threads):
            cells = [time_cell(timing.get((path + "ChoiceOnly" + suffix, t))) for t in threads]
            lines.append(f"| {title}: the key choice alone, in every row above | " + " | ".join(cells) + " |")
    return lines


# ---- RateLimitedProxyBenchmark ------------------------------------------------------------------

def proxy_table(timing):
    threads = sorted({t for (_, t) in timing})
    if not threads:
        return []
    lines = thread_header(threads, "ns/op")
    for method, name in PROXY_ROWS:
        cells = [time_cell(timing.get((method, t))) for t in threads]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    def difference(t, minuend, *subtrahends):
        keys = [(minuend, t)] + [(m, t) for m in subtrahends]
        if any(key not in timing for key in keys):
            return None
        return score(timing[keys[0]]) - sum(score(timing[key]) for key in keys[1:])

    def cell(value):
        return "-" if value is None else f"{value:.1f}"

    for label, args in [("added overhead: ours (proxy - plain)", ("proxyOurs", "plainCall")),
                        ("added overhead: Resilience4j (aspect - plain)", ("proxyResilience4j", "plainCall")),
                        ("interception alone: ours (proxy - plain - limiter)",
                         ("proxyOurs", "plainCall", "limiterOurs")),
                        ("interception alone: Resilience4j (aspect - plain - limiter)",
                         ("proxyResilience4j", "plainCall", "limiterResilience4j"))]:
        lines.append(f"| {label} | " + " | ".join(cell(difference(t, *args)) for t in threads) + " |")
    cells = []
    for t in threads:
        ours, theirs = difference(t, "proxyOurs", "plainCall"), difference(t, "proxyResilience4j", "plainCall")
        if ours is None or theirs is None or theirs <= 0:
            cells.append("-")
            continue
        ratio = ours / theirs
        cells.append(f"**{ratio:.3f}x** ({'meets' if ratio <= PROXY_TARGET else 'misses'} target ≤ {PROXY_TARGET:g}x)")
    lines.append("| added overhead, ours / Resilience4j | " + " | ".join(cells) + " |")
    for label, method in [("observation added: registry without handlers / no registry", "proxyOursObservedNoHandler"),
                          ("observation added: recorded as a timer / no registry", "proxyOursObserved")]:
        cells = []
        for t in threads:
            if (method, t) not in timing or ("proxyOurs", t) not in timing:
                cells.append("-")
                continue
            cells.append(f"{score(timing[(method, t)]) / score(timing[('proxyOurs', t)]):.2f}x")
        if any(cell != "-" for cell in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def proxy_gc_tables(gc):
    lines = []
    for threads in sorted({t for (_, t) in gc}):
        lines += ["", f"Bytes allocated per call (gc.alloc.rate.norm, {threads} thread{'s' if threads > 1 else ''}):", ""]
        lines += ["| Benchmark | B/op |", "|---|---|"]
        for method, name in PROXY_ROWS:
            result = gc.get((method, threads))
            norm = result and result["secondaryMetrics"]["gc.alloc.rate.norm"]
            cell = "-" if norm is None else f"{number(norm['score']):.1f}"
            lines.append(f"| {name} | {cell} |")
    return lines


# ---- KafkaBackendBenchmark ----------------------------------------------------------------------

def rate_cell(value, error=float("nan")):
    if value is None:
        return "-"
    return f"{value:,.0f}" if math.isnan(error) else f"{value:,.0f} ± {error:,.0f}"


def permitted(result):
    metric = result.get("secondaryMetrics", {}).get("permitted")
    return None if metric is None else number(metric["score"])


def kafka_table(timing):
    threads = sorted({t for (_, t) in timing})
    if not threads:
        return []
    kafka_variants = sorted({m for (m, _) in timing if m == "kafka" or m.startswith("kafka[")},
                            key=lambda m: (m != "kafka", m))
    rows = [KAFKA_ROWS[0]] + [(m, KAFKA_ROWS[1][1] + ("" if m == "kafka" else f", lease horizon {m[6:-1]} ms"))
                              for m in kafka_variants or ["kafka"]] + [KAFKA_ROWS[2]]
    lines = thread_header(threads, "decisions/s (permitted/s)")
    for method, name in rows:
        lines.append(f"| {name} | " + " | ".join(decision_cells(timing, method, threads)) + " |")
    for method, name in rows[1:-1]:
        for peer, peer_name, target in [("inMemory", "in-memory", KAFKA_TARGET), ("bucket4jRedis", "Bucket4j on Redis", None)]:
            cells = []
            for t in threads:
                ours, theirs = timing.get((method, t)), timing.get((peer, t))
                if ours is None or theirs is None or not permitted(theirs):
                    cells.append("-")
                    continue
                ratio = permitted(ours) / permitted(theirs)
                cell = f"**{ratio:,.0f}x**" if ratio >= 100 else f"**{ratio:.2f}x**"
                if target is not None:
                    cell += f" ({'meets' if ratio >= target else 'misses'} target ≥ {target}x)"
                cells.append(cell)
            label = name.replace("Kafka backend (ours), one instance", "Kafka backend")
            lines.append(f"| {label} / {peer_name}, permitted | " + " | ".join(cells) + " |")
    return lines


def decision_cells(timing, method, threads):
    """Decisions per second with their error, and the permitted ones, per thread count."""
    cells = []
    for t in threads:
        result = timing.get((method, t))
        if result is None:
            cells.append("-")
            continue
        metric = result["primaryMetric"]
        cells.append(f"{rate_cell(number(metric['score']), number(metric['scoreError']))} "
                     f"({rate_cell(permitted(result))})")
    return cells


def tenants_table(timing):
    """The per-tenant workload: the Kafka backend's per-key limiter against Bucket4j on Redis."""
    threads = sorted({t for (m, t) in timing if "Tenants[" in m})
    workloads = sorted({m.split("[", 1)[1][:-1] for (m, _) in timing if m.startswith("kafkaTenants[")})
    if not threads or not workloads:
        return []
    lines = ["", "Per-tenant workload (a random tenant per call), decisions/s (permitted/s):", ""]
    lines += thread_header(threads, "decisions/s (permitted/s)")
    for workload in workloads:
        for method, name in [("kafkaTenants", "Kafka backend (ours)"), ("bucket4jRedisTenants", "Bucket4j on Redis")]:
            cells = decision_cells(timing, f"{method}[{workload}]", threads)
            lines.append(f"| {name}, {workload} | " + " | ".join(cells) + " |")
        cells = []
        for t in threads:
            ours, theirs = timing.get((f"kafkaTenants[{workload}]", t)), timing.get((f"bucket4jRedisTenants[{workload}]", t))
            if ours is None or theirs is None:
                cells.append("-")
                continue
            ratio = number(ours["primaryMetric"]["score"]) / number(theirs["primaryMetric"]["score"])
            cells.append(f"**{ratio:,.0f}x** ({'meets' if ratio >= 100 else 'misses'} target ≥ 100x)")
        lines.append(f"| Kafka backend / Bucket4j on Redis, decisions, {workload} | " + " | ".join(cells) + " |")
    return lines


def kafka_warnings(timing):
    """A denial means the backend fell behind: with a limit this high, none should be denied."""
    lines = []
    for (method, threads), result in sorted(timing.items()):
        if "Tenants[" in method:
            continue  # tenants over their limit are denied by the limit, not for want of a lease
        denied = result.get("secondaryMetrics", {}).get("denied")
        total = number(result["primaryMetric"]["score"])
        if denied is not None and total > 0 and number(denied["score"]) > 0.01 * total:
            lines.append(f"WARNING: {method} with {threads} thread(s) denied {100 * number(denied['score']) / total:.1f}% "
                         "of its decisions: the backend did not keep up (compare the permitted rates).")
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
    classes = load(paths)
    lines, problems = [], []
    for name, (timing, gc) in classes.items():
        if lines:
            lines.append("")
        lines.append(f"### {name}")
        lines.append("")
        if name == "TryAcquireBenchmark":
            lines += timing_table(timing) + gc_tables(gc)
            problems += warnings(timing) + warnings(gc)
        elif name == "RealisticLimitsBenchmark":
            lines += realistic_table(timing)
        elif name == "RateLimitedProxyBenchmark":
            lines += proxy_table(timing) + proxy_gc_tables(gc)
        elif name == "KafkaBackendBenchmark":
            lines += kafka_table(timing)
            lines += tenants_table(timing)
            problems += kafka_warnings(timing)
        else:
            lines.append(f"(no table for {name})")
    print("\n".join(lines + ([""] + problems if problems else [])))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
