#!/usr/bin/env bash
# The exercises of docs/labs.md, one per call. Start the service first (`make run`, or
# `.venv/bin/tokenbench serve --demo`, with the format the lab names) and pass alice's password as it printed it:
#
#     ALICE_PASSWORD=... docs/examples/labs.sh LAB [http://127.0.0.1:8000]
#
# LAB is alg-none, replay, tamper-local, rotate-before, rotate-after or read-jwt. rotate-before and
# rotate-after share their files in $LAB_DIR (default var/labs); between them the running service re-reads
# its key directory (TOKENBENCH_KEYS_RELOAD seconds, 10 by default): no restart. Needs curl and jq (and make install). Prints each command, then its output.
# tests/service/test_docs_labs.py runs every lab against `tokenbench serve` on the format it names.
set -euo pipefail

LAB=${1:?which lab: alg-none, replay, tamper-local, rotate-before, rotate-after or read-jwt}
BASE=${2:-http://127.0.0.1:8000}
: "${ALICE_PASSWORD:?set ALICE_PASSWORD to the password tokenbench serve --demo printed for alice}"
GRACE_WAIT=${GRACE_WAIT:-11}   # one second more than TOKENBENCH_REFRESH_GRACE (default 10)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "${LAB_DIR:-var/labs}"
LAB_DIR=$(realpath "${LAB_DIR:-var/labs}")
ln -sfn "$ROOT/.venv" "$LAB_DIR/.venv"   # so .venv/bin/tokenbench reads as typed at the repository root
TOKENBENCH_KEYS_DIR=$(realpath -m "${TOKENBENCH_KEYS_DIR:-var/keys}")   # the service's key directory
export TOKENBENCH_KEYS_DIR
cd "$LAB_DIR"

shorten() { sed -E 's/([A-Za-z0-9_-]{20})[A-Za-z0-9_.-]{60,}/\1…/g'; }
run() { printf '\n$ %s\n' "$1"; eval "$1"; }   # for assignments: they must stay in this shell
show() { printf '\n$ %s\n' "$1"; eval "$1" 2>&1 | tr -d '\r' | { grep -viE '^(date|server|content-length|cache-control|pragma|content-type|www-authenticate):' || true; } | shorten; }

# base64url without padding, both ways (JWT and PASETO segments are spelled this way)
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
unb64url() { local s; s=$(tr '_-' '/+'); while (( ${#s} % 4 )); do s="$s="; done; printf '%s' "$s" | base64 -d; }
login() {
  jq -n --arg password "$ALICE_PASSWORD" '{username: "alice", password: $password}' |
    curl -s -c "${1:-cookies.txt}" -H 'Content-Type: application/json' -d @- "$BASE/auth/login" | jq -r .access_token
}

case "$LAB" in
alg-none)
  run "TOKEN=\$(login)"
  show "echo \$TOKEN | cut -d. -f1 | unb64url; echo"
  run "HEADER=\$(echo \$TOKEN | cut -d. -f1 | unb64url | jq -c '.alg = \"none\"' | b64url)"
  run "PAYLOAD=\$(echo \$TOKEN | cut -d. -f2 | unb64url | jq -c '.role = \"admin\"' | b64url)"
  show "curl -si -H \"Authorization: Bearer \$HEADER.\$PAYLOAD.\" \$BASE/admin/users"
  ;;
replay)
  run "login cookies.txt > /dev/null"
  show "cp cookies.txt stolen.txt"
  show "curl -s -o /dev/null -w '%{http_code}\\n' -b cookies.txt -c cookies.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
  show "curl -s -o /dev/null -w '%{http_code}\\n' -b stolen.txt -c stolen-next.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
  show "sleep $GRACE_WAIT"
  show "curl -si -b stolen.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
  show "curl -si -b cookies.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
  ;;
tamper-local)
  run "TOKEN=\$(login)"
  show ".venv/bin/tokenbench inspect \$TOKEN | grep -E '^(format|claims)'"
  run "C=\${TOKEN:40:1}; [ \"\$C\" = A ] && R=B || R=A; TAMPERED=\"\${TOKEN:0:40}\$R\${TOKEN:41}\""
  show "curl -si -H \"Authorization: Bearer \$TAMPERED\" \$BASE/me"
  show "curl -si -H \"Authorization: Bearer \${TOKEN%.*}\" \$BASE/me"
  ;;
rotate-before)
  run "login > old-token.txt"
  show ".venv/bin/tokenbench inspect \$(cat old-token.txt) | grep '^key id'"
  run "FORMAT=\$(curl -s \$BASE/health | jq -r .format)"
  show ".venv/bin/tokenbench keys rotate --format \$FORMAT --activate-after 0"
  show ".venv/bin/tokenbench keys list --format \$FORMAT | cut -f3"
  ;;
rotate-after)
  show "curl -s -o /dev/null -w '%{http_code}\\n' -H \"Authorization: Bearer \$(cat old-token.txt)\" \$BASE/me"
  run "login > new-token.txt"
  show ".venv/bin/tokenbench inspect \$(cat old-token.txt) | grep '^key id'"
  show ".venv/bin/tokenbench inspect \$(cat new-token.txt) | grep '^key id'"
  ;;
read-jwt)
  run "TOKEN=\$(login)"
  show "echo \$TOKEN | cut -d. -f2 | unb64url | jq ."
  show "echo \$TOKEN | cut -d. -f3 | unb64url | wc -c"
  ;;
*)
  echo "unknown lab $LAB" >&2
  exit 2
  ;;
esac
