#!/usr/bin/env bash
# Sends a burst of orders to the sample app and counts the answers (202 accepted, 429 limited).
#
#   scripts/bombard.sh                          # 100 orders of tenant acme, 10 at a time, to :8080
#   scripts/bombard.sh -t globex -n 500 -c 20   # 500 orders of globex, 20 at a time
#   scripts/bombard.sh -u http://localhost:8081 -n 50 -r 3   # three rounds, one a second
#   scripts/bombard.sh -t acme,globex,initech -n 60          # spread over several tenants
#
# Options:
#   -u URL   base URL of an instance (default http://localhost:8080)
#   -t LIST  tenant, or comma-separated tenants used in turn (default acme)
#   -n N     orders per round (default 100)
#   -c N     requests in flight at once: the burst (default 10)
#   -r N     rounds, one second apart (default 1)
#   -v       print each response's status and RateLimit header
set -euo pipefail

url=http://localhost:8080
tenants=acme
count=100
concurrency=10
rounds=1
verbose=false

usage() {
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while getopts 'u:t:n:c:r:vh' option; do
	case "$option" in
		u) url=$OPTARG ;;
		t) tenants=$OPTARG ;;
		n) count=$OPTARG ;;
		c) concurrency=$OPTARG ;;
		r) rounds=$OPTARG ;;
		v) verbose=true ;;
		h) usage 0 ;;
		*) usage 2 ;;
	esac
done

command -v curl > /dev/null || { echo "bombard.sh needs curl" >&2; exit 1; }
IFS=, read -r -a tenant_list <<< "$tenants"

# one request: prints "<status> <tenant> <RateLimit header>"
send() {
	local tenant=$1
	curl -s -o /dev/null -D - -X POST "$url/orders" \
		-H "X-Tenant: $tenant" -H 'Content-Type: application/json' \
		-d "{\"item\":\"book\",\"quantity\":1}" \
		| awk -v tenant="$tenant" '
			/^HTTP\// { status = $2 }
			tolower($1) == "ratelimit:" { sub(/\r$/, ""); $1 = ""; limit = substr($0, 2) }
			END { print (status == "" ? "000" : status), tenant, limit }'
}
export -f send
export url

for ((round = 1; round <= rounds; round++)); do
	started=$(date +%s%N)
	results=$(for ((i = 0; i < count; i++)); do
		echo "${tenant_list[$((i % ${#tenant_list[@]}))]}"
	done | xargs -P "$concurrency" -I{} bash -c 'send "$@"' _ {})
	elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
	if [[ $verbose == true ]]; then
		echo "$results"
	fi
	echo "round $round: $count orders in ${elapsed} ms"
	echo "$results" | awk '{ key = $2 " " $1; n[key]++ } END { for (k in n) printf "  tenant %-12s status %s: %d\n", substr(k, 1, index(k, " ") - 1), substr(k, index(k, " ") + 1), n[k] }' | sort
	if ((round < rounds)); then
		sleep 1
	fi
done
