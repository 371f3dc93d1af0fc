#!/usr/bin/env bash
# The multi-process harness of the Kafka backend (DistributedHarness): a broker process (or a
# 3-node cluster for leader-kill), and instance JVMs sharing one global limit, each its own
# process, with faults injected on a timeline: SIGKILL or SIGTERM of the key's owner, every
# broker killed and restarted, the leader of the key's partition killed, the whole fleet killed
# and replaced by new instances. It prints per-second admitted/denied and health per instance,
# the totals against capacity + rate x T, each scenario's targets, and a summary table. Every
# distributed figure in the docs comes from here.
#
# Usage, from anywhere in the repository:
#   ratelimit-benchmarks/run-distributed-harness.sh                      # every scenario, once
#   ratelimit-benchmarks/run-distributed-harness.sh --runs 3 owner-kill  # chosen ones, 3 runs each
#
# Scenarios: accuracy-3x200, accuracy-6x1000, accuracy-3x200-eos, priority-3x300, owner-kill, owner-term,
# outage-{10,60}s-c{100,1000}[-fail-closed], leader-kill, restart, restart-with-broker, all.
# Logs of each instance, the brokers and the per-second table go to
# <repository>/target/harness/<scenario>-<run>/. The exit status is 0 only when every target was
# met. HARNESS_INSTANCE="commit-interval=100 lease-ttl=3000" passes backend settings to every
# instance (see HarnessInstance). Run it on a quiet machine: the instances, the broker and the
# harness share its cores, as a small fleet on one host would.
set -euo pipefail

cd "$(dirname "$0")/.."
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [[ "${SKIP_BUILD:-}" != 1 ]]; then
	# -am builds ratelimit-core (and its test-jar, which holds the broker launcher) from this checkout
	./mvnw -B -q -pl ratelimit-benchmarks -am -DskipTests package
fi
exec "$java" ${HARNESS_INSTANCE:+"-Dharness.instance=$HARNESS_INSTANCE"} -cp ratelimit-benchmarks/target/benchmarks.jar dev.ratelimit.benchmarks.distributed.DistributedHarness "$@"
