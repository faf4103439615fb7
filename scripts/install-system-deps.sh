#!/usr/bin/env bash
# The one install step for the system packages cpiwatch's local stack and tests need; called by
# .ci/run and by `scripts/stack.sh up` (so `npm ci && npm run demo` works on a bare Debian machine).
#
#   scripts/install-system-deps.sh [redis|kafka|node|browser ...]    (default: all four)
#
#   redis   redis-server, redis-cli          -> apt packages redis-server, redis-tools
#   kafka   Java 17+, Maven, openssl         -> openjdk-17-jre-headless (or -21-, -25-: the first
#                                               apt has), maven, openssl
#   node    node, npm                        -> nodejs, npm
#   browser chromium (the browser tests)     -> chromium (found on PATH, or at CHROMIUM_PATH)
#
# Nothing missing: says so, exit 0. Something missing, and root or passwordless sudo
# (`sudo -n true`): says what it installs, runs `apt-get update` then `apt-get install`, checks
# again, exit 0. Otherwise (or with CPIWATCH_NO_INSTALL=1): prints the one command to run, exit 1.
# Everything goes to stderr: `scripts/stack.sh up` prints export lines on stdout.
#
# Settings (environment):
#   CPIWATCH_NO_INSTALL=1   never install, only report what is missing (exit 1 if anything is)
#   CPIWATCH_JVM_DIR        where installed JDKs are looked for besides PATH and JAVA_HOME
#                           (default: /usr/lib/jvm, as scripts/stack.sh does)
set -euo pipefail

JVM_DIR="${CPIWATCH_JVM_DIR:-/usr/lib/jvm}"
say() { printf '[system-deps] %s\n' "$*" >&2; }
die() { printf '[system-deps] ERROR: %s\n' "$*" >&2; exit 1; }

groups=()
for g in "$@"; do
  case "$g" in
    redis | kafka | node | browser) groups+=("$g") ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
      exit 0
      ;;
    *) printf '[system-deps] unknown group %s (redis, kafka, node, browser)\n' "$g" >&2; exit 2 ;;
  esac
done
((${#groups[@]})) || groups=(redis kafka node browser)
wants() { [[ " ${groups[*]} " == *" $1 "* ]]; }

# java_ok: a Java 17+ the stack would find (same places as scripts/stack.sh find_java)
java_ok() {
  local j v cands=()
  [[ -n "${JAVA_HOME:-}" ]] && cands+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && cands+=("$(command -v java)")
  for j in "$JVM_DIR"/java-*-openjdk-*/bin/java; do [[ -x "$j" ]] && cands+=("$j"); done
  for j in "${cands[@]}"; do
    v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')" || continue
    [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 17)) && return 0
  done
  return 1
}

# apt_has <package>: apt's lists have an installable version of it
apt_has() { apt-cache policy "$1" 2>/dev/null | grep -q '^ *Candidate: [^(]'; }

# java_package: the oldest LTS >= 17 that apt has: 17 (what the stack is tested on), else 21
# (Debian 13 has no 17), else 25; without apt lists, openjdk-17
java_package() {
  local v
  for v in 17 21 25; do apt_has "openjdk-$v-jre-headless" && { echo "openjdk-$v-jre-headless"; return; }; done
  echo openjdk-17-jre-headless
}

# missing: "what package" lines for everything absent
missing() {
  if wants redis; then
    command -v redis-server >/dev/null 2>&1 || echo "redis-server redis-server"
    command -v redis-cli >/dev/null 2>&1 || echo "redis-cli redis-tools"
  fi
  if wants kafka; then
    java_ok || echo "java-17+ JAVA"
    command -v mvn >/dev/null 2>&1 || echo "mvn maven"
    command -v openssl >/dev/null 2>&1 || echo "openssl openssl"
  fi
  if wants node; then
    command -v node >/dev/null 2>&1 || echo "node nodejs"
    command -v npm >/dev/null 2>&1 || echo "npm npm"
  fi
  if wants browser; then
    { [[ -n "${CHROMIUM_PATH:-}" && -x "$CHROMIUM_PATH" ]] || command -v chromium >/dev/null 2>&1; } || echo "chromium chromium"
  fi
}

present() {
  local names=()
  wants redis && names+=(redis-server redis-cli)
  wants kafka && names+=("Java 17+" Maven openssl)
  wants node && names+=(node npm)
  wants browser && names+=(chromium)
  say "present: ${names[*]}"
}

lines="$(missing)"
if [[ -z "$lines" ]]; then
  present
  exit 0
fi

whats=() pkgs=()
while read -r what pkg; do
  whats+=("$what")
  [[ "$pkg" == JAVA ]] || pkgs+=("$pkg")
done <<<"$lines"
need_java=0
[[ " ${whats[*]} " == *" java-17+ "* ]] && need_java=1

sudo=()
can_install=0
if [[ "${CPIWATCH_NO_INSTALL:-0}" != 1 ]] && command -v apt-get >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]]; then
    can_install=1
  elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    can_install=1
    sudo=(sudo -n)
  fi
fi

if ((!can_install)); then
  ((need_java)) && pkgs+=("$(java_package)")
  say "missing: ${whats[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get on this machine: install these packages (Debian names) with its package manager:"
    say "  ${pkgs[*]}"
  else
    if [[ "${CPIWATCH_NO_INSTALL:-0}" == 1 ]]; then
      say "not installing (CPIWATCH_NO_INSTALL=1). Run this once, then try again:"
    else
      say "not root and no passwordless sudo, so nothing was installed. Run this once, then try again:"
    fi
    say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${pkgs[*]}"
  fi
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300)
say "missing: ${whats[*]}"
say "running: ${sudo[*]}${sudo:+ }apt-get update"
"${apt[@]}" update -qq >&2 </dev/null
# chosen after the update: which openjdk apt has depends on the Debian release
((need_java)) && pkgs+=("$(java_package)")
say "installing: ${pkgs[*]}"
"${apt[@]}" install -y -qq --no-install-recommends "${pkgs[@]}" >&2 </dev/null
# Debian starts a redis-server service on 6379 on install; the stack does not use it.
hash -r
lines="$(missing)"
[[ -z "$lines" ]] || die "still missing after apt-get install: $(cut -d' ' -f1 <<<"$lines" | tr '\n' ' ')"
say "installed: ${pkgs[*]}"
