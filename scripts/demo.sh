#!/usr/bin/env bash
# The quick start's main job: bring up the local stack (Kafka, Redis, SMTP catcher), then run the
# processor on the example rules while a sample curbside scenario is replayed; offers are printed as
# they appear on the offers topic, e-mails land in .stack/mail/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f dist/cli/index.js ] || npm run build
eval "$(bash scripts/stack.sh up | grep '^export ' | grep -v REDIS_CLUSTER_NODES)"
export KAFKAJS_NO_PARTITIONER_WARNING=1
node bin/cpiwatch.js demo "$@"
echo "e-mails received by the SMTP catcher: $(ls "${SMTP_CATCHER_DIR:-.stack/mail}" 2>/dev/null | wc -l) (in ${SMTP_CATCHER_DIR:-.stack/mail}/)"
