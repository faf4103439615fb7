#!/usr/bin/env bash
# SCRAM credentials for the SASL_PLAINTEXT listener (SCRAM-SHA-256 and SCRAM-SHA-512) of the
# local broker of scripts/stack.sh, on 127.0.0.1:$CPIWATCH_KAFKA_SASL_PORT (default: the Kafka
# port + 2, i.e. 19094), for the security test:
#   scripts/ops/kafka-scram.sh [user] [password]
# Idempotent. Prints export lines for cpiwatch's settings.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${CPIWATCH_STACK_DIR:-$ROOT/.stack}"
KAFKA_PORT="${CPIWATCH_KAFKA_PORT:-19092}"
SASL_PORT="${CPIWATCH_KAFKA_SASL_PORT:-$((KAFKA_PORT + 2))}"
USER_NAME="${1:-cpiwatch}"
PASSWORD="${2:-cpiwatch-secret}"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml" | head -n1)"
JARS="$STACK_DIR/kafka-jars/${CPIWATCH_KAFKA_VERSION:-$VERSION}"
[[ -f "$JARS/.complete" ]] || { echo "[kafka-scram] no Kafka jars in $JARS: run scripts/stack.sh up kafka first" >&2; exit 1; }
grep -q "SASL_PLAINTEXT://127.0.0.1:$SASL_PORT" "$STACK_DIR/kafka/server.properties" 2>/dev/null || {
  echo "[kafka-scram] the local broker has no SASL listener on $SASL_PORT (started before it was configured?):" >&2
  echo "[kafka-scram] scripts/stack.sh down kafka && scripts/stack.sh up kafka" >&2
  exit 1
}
JAVA="$(command -v java || true)"
for j in /usr/lib/jvm/java-2[0-9]-openjdk-*/bin/java /usr/lib/jvm/java-17-openjdk-*/bin/java; do [[ -z "$JAVA" && -x "$j" ]] && JAVA="$j"; done
[[ -n "$JAVA" ]] || { echo "[kafka-scram] java not found" >&2; exit 1; }
"$JAVA" -Xmx128m -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.xml" -cp "$JARS/*" "$ROOT/scripts/ops/KafkaScram.java" \
  "127.0.0.1:$KAFKA_PORT" "$USER_NAME" "$PASSWORD" >/dev/null
echo "export KAFKA_BROKERS=127.0.0.1:$SASL_PORT"
echo "export KAFKA_SASL_MECHANISM=scram-sha-256"
echo "export KAFKA_SASL_USERNAME=$USER_NAME"
echo "export KAFKA_SASL_PASSWORD=$PASSWORD"
