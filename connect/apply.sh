#!/usr/bin/env bash
# Applies connect/: creates the topics of topics.conf that do not exist yet (and raises the
# partition count of those that do, where topics.conf asks for more), and registers
# (or updates) one outbox connector per outbox database (a database whose service produces
# events) with an idempotent PUT.
# Used by the native stack (stack/bin/native) and by compose's init jobs, so both get the
# same topics and the same connector configuration.
#
#   apply.sh topics       needs KAFKA_TOPICS_CMD (the path of a kafka-topics command) and KAFKA_BROKERS; to
#                         change the configs of topics that exist, KAFKA_CONFIGS_CMD (the path of kafka-configs)
#   apply.sh connectors   needs CONNECT_URL, and the outbox databases: OUTBOX_DATABASES
#                         (space-separated; compose.yaml sets it, its image has no Node), or
#                         else the service manifest, read with Node 22.18+ from PATH;
#                         DEBEZIUM_POLL_INTERVAL_MS sets the connectors' poll interval
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

outbox_databases() {
  if [ -n "${OUTBOX_DATABASES:-}" ]; then
    printf '%s\n' "$OUTBOX_DATABASES"
  else
    node "$here/../stack/bin/manifest.ts" outbox-databases
  fi
}

topics() {
  : "${KAFKA_TOPICS_CMD:?set KAFKA_TOPICS_CMD to a kafka-topics command}" "${KAFKA_BROKERS:?}"
  local described name partitions configs current created=0 grown=0
  # One describe lists every topic with its partition count (each kafka-topics call is a JVM
  # start).
  described="$("$KAFKA_TOPICS_CMD" --bootstrap-server "$KAFKA_BROKERS" --describe --exclude-internal)"
  local -A partitions_of=()
  while read -r name partitions; do partitions_of[$name]=$partitions; done < <(
    awk '/^Topic:/ { for (i = 1; i < NF; i++) if ($i == "PartitionCount:") print $2, $(i + 1) }' <<<"$described"
  )
  local -a to_configure=()
  while read -r name partitions configs; do
    case "$name" in '' | \#*) continue ;; esac
    current="${partitions_of[$name]:-}"
    if [ -n "$current" ]; then
      [ -n "$configs" ] && to_configure+=("$name=$configs")
      # A count raised in topics.conf reaches a topic that exists: safe here, as no handler
      # relies on a key staying in its partition across the change (docs/beyond-one-machine.md).
      if [ "$current" -lt "$partitions" ]; then
        "$KAFKA_TOPICS_CMD" --bootstrap-server "$KAFKA_BROKERS" --alter --topic "$name" --partitions "$partitions" >/dev/null
        echo "topic $name: $current → $partitions partitions"
        grown=$((grown + 1))
      elif [ "$current" -gt "$partitions" ]; then
        echo "topic $name has $current partitions, more than topics.conf's $partitions: Kafka cannot take partitions away (make clean starts over)" >&2
      fi
      continue
    fi
    local args=(--bootstrap-server "$KAFKA_BROKERS" --create --if-not-exists --topic "$name"
      --partitions "$partitions" --replication-factor 1)
    local cfg
    for cfg in ${configs//,/ }; do args+=(--config "$cfg"); done
    "$KAFKA_TOPICS_CMD" "${args[@]}" >/dev/null
    echo "created topic $name ($partitions partitions${configs:+, $configs})"
    created=$((created + 1))
  done <"$here/topics.conf"
  echo "topics: $created created, $grown given more partitions, the others as they were"
  [ ${#to_configure[@]} -eq 0 ] || configure_existing "${to_configure[@]}"
}

# Brings the configs of existing topics to what topics.conf says (a config added to a line
# later, such as compaction). One describe of every topic, then an alter only where a value
# differs: each kafka-configs call is a JVM start.
configure_existing() {
  : "${KAFKA_CONFIGS_CMD:?set KAFKA_CONFIGS_CMD to a kafka-configs command}"
  local described entry name configs cfg changed=0
  described="$("$KAFKA_CONFIGS_CMD" --bootstrap-server "$KAFKA_BROKERS" --entity-type topics --describe)"
  for entry in "$@"; do
    name="${entry%%=*}" configs="${entry#*=}"
    local current
    current="$(awk -v topic="$name" '/^Dynamic configs for topic / { on = ($5 == topic) } on' <<<"$described")"
    local missing=()
    for cfg in ${configs//,/ }; do
      grep -qF " $cfg " <<<"$current " || missing+=("$cfg")
    done
    [ ${#missing[@]} -eq 0 ] && continue
    "$KAFKA_CONFIGS_CMD" --bootstrap-server "$KAFKA_BROKERS" --entity-type topics --entity-name "$name" \
      --alter --add-config "$(IFS=,; echo "${missing[*]}")" >/dev/null
    echo "changed topic $name: ${missing[*]}"
    changed=$((changed + 1))
  done
  echo "topic configs: $changed changed"
}

connector_state() {
  curl -fsS --max-time 5 "$CONNECT_URL/connectors/$1/status" 2>/dev/null || true
}

connectors() {
  : "${CONNECT_URL:?}"
  local db config status list databases=()
  list="$(outbox_databases)" || { echo "cannot tell the outbox databases: set OUTBOX_DATABASES, or put Node 22.18+ on PATH" >&2; exit 1; }
  read -r -d '' -a databases <<<"$list" || true
  [ ${#databases[@]} -gt 0 ] || { echo "no outbox databases" >&2; exit 1; }
  for db in "${databases[@]}"; do
    [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "not a database name: '$db'" >&2; exit 1; }
  done
  # 25 ms for Debezium as released, whose poll loop spins through the last millisecond of
  # every interval, so that a shorter one costs idle CPU (tests/bench/README.md measures it);
  # the native stack fixes the spin (TimerExpiryFix.java) and sets a shorter one.
  local poll_interval="${DEBEZIUM_POLL_INTERVAL_MS:-25}"
  [[ "$poll_interval" =~ ^[1-9][0-9]*$ ]] || { echo "not a poll interval in ms: '$poll_interval'" >&2; exit 1; }
  for db in "${databases[@]}"; do
    config="$(sed "s/@DATABASE@/$db/g; s/@POLL_INTERVAL_MS@/$poll_interval/g" "$here/outbox-connector.json")"
    curl -fsS --max-time 30 -X PUT -H 'Content-Type: application/json' \
      --data "$config" "$CONNECT_URL/connectors/$db-outbox/config" >/dev/null
    echo "registered connector $db-outbox"
  done
  # A connector is only useful once its task runs; report a failure with Connect's reason.
  local deadline=$(($(date +%s) + ${CONNECTOR_WAIT_SECONDS:-90}))
  for db in "${databases[@]}"; do
    while :; do
      status="$(connector_state "$db-outbox")"
      if grep -q '"state":"FAILED"' <<<"$status"; then
        echo "connector $db-outbox FAILED: $status" >&2
        exit 1
      fi
      [ "$(grep -o '"state":"RUNNING"' <<<"$status" | wc -l)" -ge 2 ] && break
      if (($(date +%s) > deadline)); then
        echo "connector $db-outbox is not RUNNING: ${status:-no status}" >&2
        exit 1
      fi
      sleep 1
    done
    echo "connector $db-outbox RUNNING"
  done
}

case "${1:-}" in
  topics) topics ;;
  connectors) connectors ;;
  *) echo "usage: $0 topics|connectors" >&2; exit 2 ;;
esac
