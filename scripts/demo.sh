#!/usr/bin/env bash
# The quick start's main job: bring up the local stack (Kafka, Redis, SMTP catcher), then run the
# processor on the example rules while a sample curbside scenario is replayed; offers are printed as
# they appear on the offers topic and counts the e-mails sent; they land in .stack/mail/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f dist/cli/index.js ] || npm run build
# in a variable first: a failing `up` (e.g. a port taken by another process) stops the demo here,
# where `eval "$(...)"` would go on with the default addresses
stack_env="$(bash scripts/stack.sh up)"
eval "$(grep '^export ' <<<"$stack_env" | grep -v REDIS_CLUSTER_NODES)"
export KAFKAJS_NO_PARTITIONER_WARNING=1
node bin/cpiwatch.js demo "$@"
