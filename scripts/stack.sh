#!/usr/bin/env bash
# Local cpiwatch stack without Docker: Apache Kafka (KRaft, one combined node, jars from Maven
# Central run on the machine's Java 17), Redis (Debian's redis-server) and an SMTP catcher
# (scripts/smtp-catcher.mjs). Everything binds 127.0.0.1 and lives in .stack/ (git-ignored).
#
#   scripts/stack.sh up [kafka|redis|smtp ...]     start (idempotent) and wait until ready; first
#                                                  installs missing system packages
#                                                  (scripts/install-system-deps.sh)
#   scripts/stack.sh down [kafka|redis|smtp ...]   stop exactly the processes `up` started
#   scripts/stack.sh status                        state of each service (exit 1 if one is down)
#   scripts/stack.sh logs [service] [-f]           last lines of a service's log (or follow)
#   scripts/stack.sh env                           export lines for KAFKA_BROKERS, REDIS_URL, SMTP_URL
#   scripts/stack.sh cluster-up|cluster-down|cluster-status
#                                                  a three-master Redis Cluster on loopback
#   scripts/stack.sh cluster-env                   export line for REDIS_CLUSTER_NODES (not in `env`)
#   scripts/stack.sh kafka-tls-env                 export lines for the broker's TLS listener (CA
#                                                  file, PLAIN user and password file)
#   scripts/stack.sh clean                         down, then delete .stack/ data (keeps the jars)
#
# Settings (environment):
#   CPIWATCH_STACK_DIR              state folder                   (default: <repo>/.stack)
#   CPIWATCH_KAFKA_PORT             Kafka client listener          (default: 19092)
#   CPIWATCH_KAFKA_CONTROLLER_PORT  KRaft controller listener      (default: 19093)
#   CPIWATCH_KAFKA_SASL_PORT        SASL_PLAINTEXT listener, SCRAM-SHA-256/512 (default: Kafka
#                                   port + 2, i.e. 19094; users: scripts/ops/kafka-scram.sh)
#   CPIWATCH_KAFKA_SSL_PORT         SASL_SSL listener: TLS with a CA made in .stack/kafka/tls/,
#                                   PLAIN and SCRAM (default: Kafka port + 3, i.e. 19095;
#                                   client settings: scripts/stack.sh kafka-tls-env)
#   CPIWATCH_REDIS_PORT             Redis                          (default: 16379)
#   CPIWATCH_SMTP_PORT              SMTP catcher                   (default: 12525)
#   CPIWATCH_REDIS_CLUSTER_PORT     first Redis Cluster port, uses 3 (default: 17000; bus ports +10000)
#   CPIWATCH_KAFKA_VERSION          override the Kafka version pinned in scripts/kafka/pom.xml
#   CPIWATCH_KAFKA_HEAP             JVM heap flags                 (default: -Xms256m -Xmx768m)
#   CPIWATCH_KAFKA_JVM_OPTS         extra JVM flags for the broker (default: none)
#   CPIWATCH_KAFKA_CDS              1: class-data-sharing archive, ~3x faster broker start (default: 1)
#   CPIWATCH_STACK_TIMEOUT          seconds to wait for readiness  (default: 120)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${CPIWATCH_STACK_DIR:-$ROOT/.stack}"
KAFKA_PORT="${CPIWATCH_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${CPIWATCH_KAFKA_CONTROLLER_PORT:-19093}"
SASL_PORT="${CPIWATCH_KAFKA_SASL_PORT:-$((KAFKA_PORT + 2))}"
SSL_PORT="${CPIWATCH_KAFKA_SSL_PORT:-$((KAFKA_PORT + 3))}"
REDIS_PORT="${CPIWATCH_REDIS_PORT:-16379}"
SMTP_PORT="${CPIWATCH_SMTP_PORT:-12525}"
CLUSTER_PORT="${CPIWATCH_REDIS_CLUSTER_PORT:-17000}"
KAFKA_HEAP="${CPIWATCH_KAFKA_HEAP:--Xms256m -Xmx768m}"
KAFKA_JVM_OPTS="${CPIWATCH_KAFKA_JVM_OPTS:-}"
KAFKA_CDS="${CPIWATCH_KAFKA_CDS:-1}"
TIMEOUT="${CPIWATCH_STACK_TIMEOUT:-120}"
POM="$ROOT/scripts/kafka/pom.xml"
PINNED_KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)"
KAFKA_VERSION="${CPIWATCH_KAFKA_VERSION:-$PINNED_KAFKA_VERSION}"

RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
JARS_DIR="$STACK_DIR/kafka-jars/$KAFKA_VERSION"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_TLS_DIR="$KAFKA_DIR/tls"
PLAIN_USER="cpiwatch-plain"
REDIS_DIR="$STACK_DIR/redis"
MAIL_DIR="$STACK_DIR/mail"
CLUSTER_DIR="$STACK_DIR/redis-cluster"
ALL_SERVICES=(kafka redis smtp)

say() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

# ---------------------------------------------------------------------------------------------
# pid bookkeeping: a pid file is trusted only if /proc/<pid>/cmdline still carries our marker,
# so a recycled pid is never signalled.
# ---------------------------------------------------------------------------------------------
pid_file() { echo "$RUN_DIR/$1.pid"; }

# marker <service>: a string that appears in the command line of the process we started
marker() {
  case "$1" in
    kafka) echo "-Dcpiwatch.stack=$STACK_DIR" ;;
    redis) echo "$REDIS_DIR/redis.conf" ;;
    smtp) echo "$ROOT/scripts/smtp-catcher.mjs" ;;
    cluster-*) echo "$CLUSTER_DIR/${1#cluster-}/redis.conf" ;;
    *) die "unknown service $1" ;;
  esac
}

# running_pid <service>: prints the pid if our process is alive, else nothing (and returns 1)
running_pid() {
  local f pid
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  # a zombie has an empty cmdline, which also fails the marker test
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(marker "$1")" || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# launch <service> <log file> <command...>: start detached in its own session, record the pid.
# `setsid` execs in place (a background job of a script is not a group leader), so $! is the
# service's own pid.
launch() {
  local svc="$1" log="$2"
  shift 2
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  printf '\n===== %s starting %s =====\n' "$(date -Is)" "$svc" >>"$log"
  # fd 9 is the stack lock: the service must not inherit (and hold) it
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  echo $! >"$(pid_file "$svc")"
}

# stop <service>: TERM, wait up to 60 s, then KILL; only our own pid.
stop() {
  local svc="$1" pid i killed=0
  if ! pid="$(running_pid "$svc")"; then
    rm -f "$(pid_file "$svc")"
    say "$svc: not running"
    return 0
  fi
  say "$svc: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 600; i++)); do
    running_pid "$svc" >/dev/null || break
    sleep 0.1
  done
  if running_pid "$svc" >/dev/null; then
    say "$svc: pid $pid still alive after 60 s, sending KILL"
    killed=1
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      running_pid "$svc" >/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$(pid_file "$svc")"
  # the JVM writes its class-data-sharing archive when it exits; keep it only after a clean exit
  if [[ "$svc" == kafka && -f "$JARS_DIR/kafka.jsa.new" ]]; then
    if ((killed)); then rm -f "$JARS_DIR/kafka.jsa.new"; else mv -f "$JARS_DIR/kafka.jsa.new" "$JARS_DIR/kafka.jsa"; fi
  fi
  say "$svc: stopped"
}

# wait_for <service> <description> <check command...>
wait_for() {
  local svc="$1" what="$2" deadline
  shift 2
  deadline=$(($(now) + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! running_pid "$svc" >/dev/null; then
      say "$svc exited during start-up; last lines of $(log_file "$svc"):"
      tail -n 40 "$(log_file "$svc")" >&2 || true
      rm -f "$(pid_file "$svc")"
      die "$svc failed to start"
    fi
    if (($(now) > deadline)); then
      tail -n 40 "$(log_file "$svc")" >&2 || true
      die "$svc: no $what after ${TIMEOUT}s (log: $(log_file "$svc"))"
    fi
    sleep 0.25
  done
}

log_file() { echo "$LOG_DIR/$1.log"; }

# ---------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------
find_java() {
  local cands=() j v
  [[ -n "${JAVA_HOME:-}" ]] && cands+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && cands+=("$(command -v java)")
  for j in /usr/lib/jvm/java-2[0-9]-openjdk-*/bin/java /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    [[ -x "$j" ]] && cands+=("$j")
  done
  for j in "${cands[@]}"; do
    v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    if [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 17)); then
      echo "$j"
      return 0
    fi
  done
  die "Kafka $KAFKA_VERSION needs Java 17 or newer (apt-get install -y openjdk-17-jre-headless)"
}

resolve_kafka_jars() {
  [[ -f "$JARS_DIR/.complete" ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch the Kafka jars (apt-get install -y maven)"
  say "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies with Maven"
  local t0 tmp
  t0=$(now)
  tmp="$JARS_DIR.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$tmp" >"$LOG_DIR/maven.log" 2>&1; then
    cat "$LOG_DIR/maven.log" >&2
    rm -rf "$tmp"
    die "Maven could not resolve the Kafka jars (log: $LOG_DIR/maven.log)"
  fi
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$KAFKA_VERSION.jar missing after Maven"
  rm -rf "$JARS_DIR"
  mv "$tmp" "$JARS_DIR"
  touch "$JARS_DIR/.complete"
  say "kafka: $(ls "$JARS_DIR"/*.jar | wc -l) jars in $JARS_DIR ($(($(now) - t0))s)"
}

# The TLS listener's files, made once per .stack/ (kept across restarts, so clients keep trusting
# the same CA): a private CA, the broker's key and certificate for 127.0.0.1 and localhost in one
# PEM file (what Kafka's PEM keystore reads), and the PLAIN user's random password.
make_kafka_tls() {
  [[ -f "$KAFKA_TLS_DIR/.complete" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl is needed for the broker's TLS listener (apt-get install -y openssl)"
  local d="$KAFKA_TLS_DIR" key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  rm -rf "$d"
  mkdir -p "$d"
  chmod 700 "$d"
  {
    openssl req -x509 "${key[@]}" -days 3650 -subj "/CN=cpiwatch local stack CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$d/ca.key" -out "$d/ca.pem"
    openssl req "${key[@]}" -subj "/CN=127.0.0.1" -keyout "$d/broker.key" -out "$d/broker.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/broker.ext"
    openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -days 3650 -extfile "$d/broker.ext" -out "$d/broker.crt"
  } >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "openssl could not make the broker's TLS certificate"; }
  cat "$d/broker.key" "$d/broker.crt" >"$d/broker.pem"
  chmod 600 "$d"/*.key "$d/broker.pem"
  openssl rand -hex 16 >"$d/plain.password"
  chmod 600 "$d/plain.password"
  touch "$d/.complete"
  say "kafka: TLS listener certificate (test CA $d/ca.pem)"
}

# render_kafka_config [file]: the broker's configuration from the template (default: the one it runs with)
render_kafka_config() {
  local out="${1:-$KAFKA_DIR/server.properties}"
  mkdir -p "$KAFKA_DIR"
  make_kafka_tls
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
    -e "s|@SASL_PORT@|$SASL_PORT|g" \
    -e "s|@SSL_PORT@|$SSL_PORT|g" \
    -e "s|@TLS_DIR@|$KAFKA_TLS_DIR|g" \
    -e "s|@PLAIN_USER@|$PLAIN_USER|g" \
    -e "s|@PLAIN_PASSWORD@|$(cat "$KAFKA_TLS_DIR/plain.password")|g" \
    -e "s|@DATA_DIR@|$KAFKA_DIR/data|g" \
    "$ROOT/scripts/kafka/server.properties.template" >"$out"
}

kafka_ready() {
  # cheap check first: spawning node every 250 ms would steal CPU from the booting JVM
  port_in_use "$KAFKA_PORT" || return 1
  if [[ -f "$ROOT/node_modules/kafkajs/package.json" ]]; then
    node "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT"
  else
    # without node_modules: the broker logs this line once it serves requests
    port_in_use "$KAFKA_PORT" && grep -q 'Kafka Server started' "$(log_file kafka)"
  fi
}

start_kafka() {
  local pid java cp
  if pid="$(running_pid kafka)"; then
    say "kafka: already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    # a broker started from an older template (e.g. before a listener was added) keeps running
    # with it: say so, since tests of the new parts would fail against it
    render_kafka_config "$KAFKA_DIR/server.properties.current"
    if ! cmp -s "$KAFKA_DIR/server.properties.current" "$KAFKA_DIR/server.properties"; then
      say "kafka: WARNING: the running broker's configuration is older than scripts/kafka/server.properties.template;"
      say "kafka: restart it to apply the template: scripts/stack.sh down kafka && scripts/stack.sh up kafka"
    fi
    rm -f "$KAFKA_DIR/server.properties.current"
    return 0
  fi
  port_in_use "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process (set CPIWATCH_KAFKA_PORT)"
  port_in_use "$CONTROLLER_PORT" && die "port $CONTROLLER_PORT is taken by another process (set CPIWATCH_KAFKA_CONTROLLER_PORT)"
  port_in_use "$SASL_PORT" && die "port $SASL_PORT is taken by another process (set CPIWATCH_KAFKA_SASL_PORT)"
  port_in_use "$SSL_PORT" && die "port $SSL_PORT is taken by another process (set CPIWATCH_KAFKA_SSL_PORT)"
  mkdir -p "$LOG_DIR"
  java="$(find_java)"
  resolve_kafka_jars
  render_kafka_config
  cp="$JARS_DIR/*"
  # a data folder formatted by another Kafka version (or a broken one) is thrown away: test data only
  if [[ -f "$KAFKA_DIR/data/meta.properties" && "$(cat "$KAFKA_DIR/data.version" 2>/dev/null)" != "$KAFKA_VERSION" ]]; then
    say "kafka: data folder was made by another Kafka version, recreating it"
    rm -rf "$KAFKA_DIR/data"
  fi
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local cluster_id
    # 16 random bytes, URL-safe base64 (Kafka's format); one starting with "-" would read as an option
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
      cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    rm -rf "$KAFKA_DIR/data"
    say "kafka: formatting storage (cluster id $cluster_id)"
    "$java" -Xmx256m -cp "$cp" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.xml" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
      >>"$(log_file kafka)" 2>&1 || { tail -n 20 "$(log_file kafka)" >&2; die "kafka storage format failed"; }
    echo "$KAFKA_VERSION" >"$KAFKA_DIR/data.version"
  fi
  # Class data sharing: the first run records the loaded classes into an archive when the JVM
  # exits (promoted by `down`); later starts map it and boot in ~2.5 s instead of ~8 s.
  local cds=()
  if [[ "$KAFKA_CDS" == 1 ]]; then
    rm -f "$JARS_DIR/kafka.jsa.new"
    if [[ -f "$JARS_DIR/kafka.jsa" ]]; then
      cds=(-XX:SharedArchiveFile="$JARS_DIR/kafka.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off)
    else
      cds=(-XX:ArchiveClassesAtExit="$JARS_DIR/kafka.jsa.new" -Xlog:cds=off -Xlog:cds+dynamic=off)
    fi
  fi
  say "kafka: starting $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller $CONTROLLER_PORT)"
  # shellcheck disable=SC2086
  launch kafka "$(log_file kafka)" "$java" $KAFKA_HEAP $KAFKA_JVM_OPTS "${cds[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Dcpiwatch.stack="$STACK_DIR" \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.xml" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$cp" kafka.Kafka "$KAFKA_DIR/server.properties"
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------
find_redis() {
  command -v redis-server >/dev/null 2>&1 || die "redis-server is missing (apt-get install -y redis-server)"
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli is missing (apt-get install -y redis-tools)"
}

# write_redis_conf <dir> <port> [extra lines...]
write_redis_conf() {
  local dir="$1" port="$2"
  shift 2
  mkdir -p "$dir"
  {
    echo "# written by scripts/stack.sh; test instance, with an append-only file (a restart keeps the state)"
    echo "bind 127.0.0.1"
    echo "port $port"
    echo "protected-mode yes"
    echo "daemonize no"
    echo "supervised no"
    echo "dir $dir"
    echo "save \"\""
    echo "appendonly yes"
    echo "appendfsync everysec"
    echo "logfile \"\""
    echo "loglevel notice"
    echo "databases 16"
    # redis rewrites its process title; keep the config path in it so stack.sh knows its own pids
    echo "proc-title-template \"{title} {listen-addr} {server-mode} {config-file}\""
    local l
    for l in "$@"; do echo "$l"; done
  } >"$dir/redis.conf"
}

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == "PONG" ]]; }

start_redis() {
  local pid
  if pid="$(running_pid redis)"; then
    say "redis: already running (pid $pid) on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  find_redis
  port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process (set CPIWATCH_REDIS_PORT)"
  write_redis_conf "$REDIS_DIR" "$REDIS_PORT"
  say "redis: starting on 127.0.0.1:$REDIS_PORT"
  launch redis "$(log_file redis)" redis-server "$REDIS_DIR/redis.conf"
}

# ---------------------------------------------------------------------------------------------
# SMTP catcher
# ---------------------------------------------------------------------------------------------
smtp_ready() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || exit 1
    IFS= read -r -t 2 line <&3 || true
    printf 'QUIT\r\n' >&3 || true
    [[ "$line" == 220* ]]
  ) 2>/dev/null
}

start_smtp() {
  local pid
  if pid="$(running_pid smtp)"; then
    say "smtp: already running (pid $pid) on 127.0.0.1:$SMTP_PORT"
    return 0
  fi
  [[ -f "$ROOT/node_modules/smtp-server/package.json" ]] || die "smtp: the smtp-server package is missing: run npm ci first"
  port_in_use "$SMTP_PORT" && die "port $SMTP_PORT is taken by another process (set CPIWATCH_SMTP_PORT)"
  mkdir -p "$MAIL_DIR"
  say "smtp: starting catcher on 127.0.0.1:$SMTP_PORT, mails to $MAIL_DIR"
  launch smtp "$(log_file smtp)" node "$ROOT/scripts/smtp-catcher.mjs" --port "$SMTP_PORT" --dir "$MAIL_DIR"
}

# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------
services_arg() {
  if (($# == 0)); then
    echo "${ALL_SERVICES[@]}"
    return
  fi
  local s
  for s in "$@"; do
    case "$s" in kafka | redis | smtp) ;; *) die "unknown service '$s' (kafka, redis, smtp)" ;; esac
  done
  echo "$@"
}

with_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 600 9 || die "another stack.sh holds $STACK_DIR/.lock"
}

# install_deps <service...>: the system packages those services need (apt-get when root or with
# passwordless sudo, else the command to run and exit 1); scripts/install-system-deps.sh
install_deps() {
  local groups=() s
  for s in "$@"; do
    case "$s" in kafka) groups+=(kafka) ;; redis) groups+=(redis) ;; smtp) groups+=(node) ;; esac
  done
  bash "$ROOT/scripts/install-system-deps.sh" "${groups[@]}" || die "system packages missing (see above)"
}

cmd_up() {
  local svcs t0 s
  read -r -a svcs <<<"$(services_arg "$@")"
  install_deps "${svcs[@]}"
  with_lock
  t0=$(now)
  for s in "${svcs[@]}"; do "start_$s"; done
  for s in "${svcs[@]}"; do
    case "$s" in
      kafka) wait_for kafka "metadata answer on 127.0.0.1:$KAFKA_PORT" kafka_ready ;;
      redis) wait_for redis "PONG on 127.0.0.1:$REDIS_PORT" redis_ping "$REDIS_PORT" ;;
      smtp) wait_for smtp "SMTP greeting on 127.0.0.1:$SMTP_PORT" smtp_ready ;;
    esac
  done
  say "ready in $(($(now) - t0))s: ${svcs[*]}"
  cmd_env
}

cmd_down() {
  local svcs s
  read -r -a svcs <<<"$(services_arg "$@")"
  with_lock
  # reverse order: the catcher and redis first, Kafka (slowest) last
  for ((i = ${#svcs[@]} - 1; i >= 0; i--)); do stop "${svcs[i]}"; done
}

cmd_status() {
  local s pid ok=0 where
  for s in "${ALL_SERVICES[@]}"; do
    case "$s" in
      kafka) where="127.0.0.1:$KAFKA_PORT (Kafka $KAFKA_VERSION, KRaft; controller :$CONTROLLER_PORT; SASL/SCRAM :$SASL_PORT; SASL_SSL :$SSL_PORT)" ;;
      redis) where="127.0.0.1:$REDIS_PORT" ;;
      smtp) where="127.0.0.1:$SMTP_PORT (mail in $MAIL_DIR)" ;;
    esac
    if pid="$(running_pid "$s")"; then
      printf '%-6s running  pid %-7s %s\n' "$s" "$pid" "$where"
    else
      printf '%-6s stopped  %-11s %s\n' "$s" "" "$where"
      ok=1
    fi
  done
  local n running=0
  for ((n = 0; n < 3; n++)); do running_pid "cluster-$n" >/dev/null && running=$((running + 1)); done
  ((running > 0)) && printf '%-6s %d/3 nodes running on 127.0.0.1:%s-%s\n' "redis-cluster" "$running" "$CLUSTER_PORT" "$((CLUSTER_PORT + 2))"
  return $ok
}

cmd_logs() {
  local follow=0 svcs=() a
  for a in "$@"; do
    if [[ "$a" == "-f" || "$a" == "--follow" ]]; then follow=1; else svcs+=("$a"); fi
  done
  ((${#svcs[@]})) || svcs=("${ALL_SERVICES[@]}")
  local files=() s
  for s in "${svcs[@]}"; do
    case "$s" in kafka | redis | smtp | maven) ;; *) die "unknown service '$s'" ;; esac
    [[ -f "$(log_file "$s")" ]] && files+=("$(log_file "$s")")
  done
  ((${#files[@]})) || die "no logs yet in $LOG_DIR"
  if ((follow)); then tail -n 50 -F "${files[@]}"; else tail -n 100 "${files[@]}"; fi
}

cmd_env() {
  echo "export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "export SMTP_URL=smtp://127.0.0.1:$SMTP_PORT"
  echo "export SMTP_CATCHER_DIR=$MAIL_DIR"
}

# the TLS listener (SASL_SSL) as the PLAIN user; SCRAM users: scripts/ops/kafka-scram.sh
cmd_kafka_tls_env() {
  [[ -f "$KAFKA_TLS_DIR/.complete" ]] || die "no TLS files in $KAFKA_TLS_DIR: scripts/stack.sh up kafka first"
  grep -q "SASL_SSL://127.0.0.1:$SSL_PORT" "$KAFKA_DIR/server.properties" 2>/dev/null ||
    die "the broker's configuration has no TLS listener on $SSL_PORT (started before it had one?): scripts/stack.sh down kafka && scripts/stack.sh up kafka"
  echo "export KAFKA_BROKERS=127.0.0.1:$SSL_PORT"
  echo "export KAFKA_SSL=true"
  echo "export KAFKA_SSL_CA_FILE=$KAFKA_TLS_DIR/ca.pem"
  echo "export KAFKA_SASL_MECHANISM=plain"
  echo "export KAFKA_SASL_USERNAME=$PLAIN_USER"
  echo "export KAFKA_SASL_PASSWORD_FILE=$KAFKA_TLS_DIR/plain.password"
}

# the cluster's seeds, separately: whoever evals `env` must keep running against the single Redis
cmd_cluster_env() {
  echo "export REDIS_CLUSTER_NODES=127.0.0.1:$CLUSTER_PORT,127.0.0.1:$((CLUSTER_PORT + 1)),127.0.0.1:$((CLUSTER_PORT + 2))"
}

cluster_ok() { redis-cli -h 127.0.0.1 -p "$CLUSTER_PORT" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

cmd_cluster_up() {
  install_deps redis
  find_redis
  with_lock
  local n port pid fresh=0 nodes=()
  for ((n = 0; n < 3; n++)); do
    port=$((CLUSTER_PORT + n))
    nodes+=("127.0.0.1:$port")
    if pid="$(running_pid "cluster-$n")"; then
      say "redis-cluster: node $n already running (pid $pid) on 127.0.0.1:$port"
      continue
    fi
    port_in_use "$port" && die "port $port is taken by another process (set CPIWATCH_REDIS_CLUSTER_PORT)"
    port_in_use "$((port + 10000))" && die "cluster bus port $((port + 10000)) is taken by another process"
    # a node that was stopped forgets its cluster: start every stopped node from scratch
    rm -rf "$CLUSTER_DIR/$n"
    write_redis_conf "$CLUSTER_DIR/$n" "$port" "cluster-enabled yes" \
      "cluster-config-file $CLUSTER_DIR/$n/nodes.conf" "cluster-node-timeout 5000" \
      "cluster-require-full-coverage yes"
    say "redis-cluster: starting node $n on 127.0.0.1:$port"
    launch "cluster-$n" "$(log_file "cluster-$n")" redis-server "$CLUSTER_DIR/$n/redis.conf"
    fresh=1
  done
  for ((n = 0; n < 3; n++)); do
    wait_for "cluster-$n" "PONG" redis_ping "$((CLUSTER_PORT + n))"
  done
  if ((fresh)) || ! cluster_ok; then
    # nodes that survived from an earlier cluster would refuse to join a new one
    for ((n = 0; n < 3; n++)); do
      redis-cli -h 127.0.0.1 -p "$((CLUSTER_PORT + n))" flushall >/dev/null 2>&1 || true
      redis-cli -h 127.0.0.1 -p "$((CLUSTER_PORT + n))" cluster reset hard >/dev/null 2>&1 || true
    done
    say "redis-cluster: creating cluster ${nodes[*]}"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$LOG_DIR/redis-cluster-create.log" 2>&1 ||
      { cat "$LOG_DIR/redis-cluster-create.log" >&2; die "redis-cli --cluster create failed"; }
  fi
  local deadline=$(($(now) + TIMEOUT))
  until cluster_ok; do
    (($(now) > deadline)) && die "redis-cluster: cluster_state not ok after ${TIMEOUT}s"
    sleep 0.25
  done
  say "redis-cluster: ready"
  echo "export REDIS_CLUSTER_NODES=$(
    IFS=,
    echo "${nodes[*]}"
  )"
}

cmd_cluster_down() {
  with_lock
  local n
  for ((n = 2; n >= 0; n--)); do stop "cluster-$n"; done
  rm -rf "$CLUSTER_DIR"
}

cmd_cluster_status() {
  local n pid ok=0
  for ((n = 0; n < 3; n++)); do
    if pid="$(running_pid "cluster-$n")"; then
      printf 'cluster-%d running  pid %-7s 127.0.0.1:%s\n' "$n" "$pid" "$((CLUSTER_PORT + n))"
    else
      printf 'cluster-%d stopped              127.0.0.1:%s\n' "$n" "$((CLUSTER_PORT + n))"
      ok=1
    fi
  done
  if cluster_ok; then echo "cluster_state: ok"; else echo "cluster_state: not ok"; ok=1; fi
  return $ok
}

cmd_clean() {
  cmd_down
  cmd_cluster_down
  rm -rf "$KAFKA_DIR" "$REDIS_DIR" "$MAIL_DIR" "$RUN_DIR" "$LOG_DIR"
  say "removed state under $STACK_DIR (kept $STACK_DIR/kafka-jars)"
}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

cmd="${1:-}"
(($#)) && shift
case "$cmd" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status ;;
  logs) cmd_logs "$@" ;;
  env) cmd_env ;;
  cluster-env) cmd_cluster_env ;;
  kafka-tls-env) cmd_kafka_tls_env ;;
  cluster-up) cmd_cluster_up ;;
  cluster-down) cmd_cluster_down ;;
  cluster-status) cmd_cluster_status ;;
  clean) cmd_clean ;;
  -h | --help | help) usage ;;
  *)
    usage
    exit 2
    ;;
esac
