#!/usr/bin/env bash
# Builds ratelimit-benchmarks/target/benchmarks.jar, runs TryAcquireBenchmark (the extremes: every
# call permitted, every call denied) and RealisticLimitsBenchmark (saturated, small-capacity and
# keyed limits) with 1 thread and with 2 threads sharing each limiter, runs TryAcquireBenchmark
# once more with the GC profiler for the bytes allocated per call, and prints the results as
# markdown tables with the ratio of ours to the fastest peer.
#
# Usage, from anywhere in the repository:
#   ratelimit-benchmarks/run-benchmarks.sh           # the measurement, about 25 minutes
#   ratelimit-benchmarks/run-benchmarks.sh --smoke   # only checks that everything runs
#
# Measure on a quiet machine (nothing else running) and compare only numbers from one run.
# Smoke numbers come from one short iteration and mean nothing. Results go to <repository>/target:
# tryacquire-t1.json, tryacquire-t2.json, tryacquire-gc.json and tryacquire.md. The JDK is
# $JAVA_HOME/bin/java when JAVA_HOME is set, otherwise the java on the PATH.
set -euo pipefail

cd "$(dirname "$0")/.."

timing=(-wi 3 -w 2s -i 5 -r 2s)
if [[ "${1:-}" == "--smoke" ]]; then
	timing=(-wi 1 -w 1s -i 1 -r 1s)
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
jar=ratelimit-benchmarks/target/benchmarks.jar

# -am builds ratelimit-core from this checkout rather than taking a stale snapshot from ~/.m2
./mvnw -B -q -pl ratelimit-benchmarks -am -DskipTests package
mkdir -p target
"$java" -jar "$jar" 'TryAcquireBenchmark|RealisticLimitsBenchmark' -t 1 -f 1 "${timing[@]}" -rf json -rff target/tryacquire-t1.json
"$java" -jar "$jar" 'TryAcquireBenchmark|RealisticLimitsBenchmark' -t 2 -f 1 "${timing[@]}" -rf json -rff target/tryacquire-t2.json
"$java" -jar "$jar" TryAcquireBenchmark -t 1 -f 1 "${timing[@]}" -prof gc -rf json -rff target/tryacquire-gc.json
python3 ratelimit-benchmarks/results-table.py target/tryacquire-t1.json target/tryacquire-t2.json \
	target/tryacquire-gc.json | tee target/tryacquire.md
