#!/usr/bin/env bash
# Builds ratelimit-benchmarks/target/benchmarks.jar, runs RateLimitedProxyBenchmark (a method called
# plainly, through our @RateLimited proxy and through Resilience4j's @RateLimiter aspect) with 1
# thread and with 2 threads, runs it once more with the GC profiler for the bytes allocated per
# call, and prints markdown tables with the overhead each proxy adds and the ratio of ours to
# Resilience4j's.
#
# Usage, from anywhere in the repository:
#   ratelimit-benchmarks/run-proxy-benchmark.sh           # the measurement, about 5 minutes
#   ratelimit-benchmarks/run-proxy-benchmark.sh --smoke   # only checks that everything runs
#
# Measure on a quiet machine and compare only numbers from one run. Smoke numbers come from one
# short iteration and mean nothing. Results go to <repository>/target: proxy-t1.json,
# proxy-t2.json, proxy-gc.json and proxy.md. The JDK is $JAVA_HOME/bin/java when JAVA_HOME is
# set, otherwise the java on the PATH.
set -euo pipefail

cd "$(dirname "$0")/.."

timing=(-wi 3 -w 2s -i 5 -r 2s)
if [[ "${1:-}" == "--smoke" ]]; then
	timing=(-wi 1 -w 1s -i 1 -r 1s)
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
jar=ratelimit-benchmarks/target/benchmarks.jar

# -am builds ratelimit-core and the starter from this checkout rather than taking stale snapshots
./mvnw -B -q -pl ratelimit-benchmarks -am -DskipTests package
mkdir -p target
"$java" -jar "$jar" RateLimitedProxyBenchmark -t 1 -f 1 "${timing[@]}" -rf json -rff target/proxy-t1.json
"$java" -jar "$jar" RateLimitedProxyBenchmark -t 2 -f 1 "${timing[@]}" -rf json -rff target/proxy-t2.json
"$java" -jar "$jar" RateLimitedProxyBenchmark -t 1 -f 1 "${timing[@]}" -prof gc -rf json -rff target/proxy-gc.json
python3 ratelimit-benchmarks/results-table.py target/proxy-t1.json target/proxy-t2.json target/proxy-gc.json \
	| tee target/proxy.md
