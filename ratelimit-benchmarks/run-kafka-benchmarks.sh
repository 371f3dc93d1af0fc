#!/usr/bin/env bash
# Benchmarks of the Kafka backend:
#  1. KafkaBackendBenchmark (JMH): decisions per second on one hot key of the in-memory token
#     bucket, the Kafka backend (one instance, in-process KRaft broker) and Bucket4j on Redis,
#     with 1 thread and with 2 threads, as markdown tables with ratios.
#  2. LeaseHarness: three backends in one JVM sharing one limit under open-loop load, for a small
#     matrix of processing guarantee, commit interval and lease horizon: lease round trips, Kafka
#     records per 1,000 decisions, accuracy and utilization.
#
# Bucket4j needs Redis on 127.0.0.1:6379. When none answers there, this script starts one
# (redis-server, installed with apt-get when missing) without persistence, and stops it at the end.
#
# Usage, from anywhere in the repository:
#   ratelimit-benchmarks/run-kafka-benchmarks.sh           # the measurement, about 12 minutes
#   ratelimit-benchmarks/run-kafka-benchmarks.sh --smoke   # only checks that everything runs
#
# Measure on a quiet machine and compare only numbers from one run. Smoke numbers come from short
# runs and mean nothing. Results go to <repository>/target: kafka-t1.json, kafka-t2.json,
# kafka.md and lease-harness.md. The JDK is $JAVA_HOME/bin/java when JAVA_HOME is set, otherwise
# the java on the PATH.
set -euo pipefail

cd "$(dirname "$0")/.."

timing=(-wi 3 -w 5s -i 5 -r 5s)
seconds=20
if [[ "${1:-}" == "--smoke" ]]; then
	timing=(-wi 1 -w 2s -i 1 -r 2s)
	seconds=5
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
jar=ratelimit-benchmarks/target/benchmarks.jar

redis_answers() {
	local reply=""
	{
		exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && IFS= read -r -t 2 reply <&3
		exec 3>&-
	} 2>/dev/null || true
	[[ "$reply" == "+PONG"* ]]
}

if ! redis_answers; then
	if ! command -v redis-server >/dev/null; then
		echo "Installing redis-server (Debian package) for the Bucket4j benchmark"
		as_root=()
		[[ "$(id -u)" == 0 ]] || as_root=(sudo)
		"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
	fi
	mkdir -p target/redis
	redis-server --port 6379 --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
		--dir "$PWD/target/redis" --pidfile "$PWD/target/redis/redis.pid" --logfile "$PWD/target/redis/redis.log"
	for _ in $(seq 50); do
		redis_answers && break
		sleep 0.1
	done
	redis_answers || { echo "redis-server did not start; see target/redis/redis.log" >&2; exit 1; }
	redis_pid="$(cat target/redis/redis.pid)"
	# stop the server this script started, and only that one
	trap 'kill "$redis_pid" 2>/dev/null || true' EXIT
fi

# -am builds ratelimit-core from this checkout rather than taking a stale snapshot from ~/.m2
./mvnw -B -q -pl ratelimit-benchmarks -am -DskipTests package
mkdir -p target
"$java" -jar "$jar" KafkaBackendBenchmark -t 1 -f 1 "${timing[@]}" -rf json -rff target/kafka-t1.json
"$java" -jar "$jar" KafkaBackendBenchmark -t 2 -f 1 "${timing[@]}" -rf json -rff target/kafka-t2.json
# the per-tenant workload again with every tenant under its limit (1,000/s each, far above the calls)
for threads in 1 2; do
	"$java" -jar "$jar" 'KafkaBackendBenchmark\.(kafkaTenants|bucket4jRedisTenants)' -p tenantRate=1000 \
		-p tenantCapacity=2000 -t "$threads" -f 1 "${timing[@]}" -rf json -rff "target/kafka-tenants-t$threads.json"
done
python3 ratelimit-benchmarks/results-table.py target/kafka-t1.json target/kafka-t2.json target/kafka-tenants-t1.json \
	target/kafka-tenants-t2.json | tee target/kafka.md

# the matrix: both guarantees at three commit intervals, then two more lease horizons
harness=("$java" -cp "$jar" dev.ratelimit.benchmarks.LeaseHarness --instances 3 --seconds "$seconds" --rate 1000)
"${harness[@]}" --guarantee at_least_once,exactly_once_v2 --commit-interval 20,50,100 --horizon 500 \
	| tee target/lease-harness.md
"${harness[@]}" --guarantee at_least_once --commit-interval 50 --horizon 200,1000 | tee -a target/lease-harness.md
