#!/usr/bin/env bash
# The curl walk-through of docs/tutorial.md: log in, call a protected route, look inside the token,
# refresh, replay an old refresh token, log out. Start the service first (`make run`, or `.venv/bin/tokenbench serve --demo`) and pass alice's
# password as it printed it:
#
#     ALICE_PASSWORD=... docs/examples/tutorial.sh [http://127.0.0.1:8000]
#
# Needs curl and jq; run it from anywhere (the commands read as typed at the repository root: the work
# directory links the repository's .venv). Prints each command, then its output (long tokens shortened to "…").
# tests/service/test_docs_tutorial.py runs this script against `.venv/bin/tokenbench serve` for every format.
set -euo pipefail

BASE=${1:-http://127.0.0.1:8000}
: "${ALICE_PASSWORD:?set ALICE_PASSWORD to the password .venv/bin/tokenbench serve --demo printed for alice}"
GRACE_WAIT=${GRACE_WAIT:-11}   # one second more than TOKENBENCH_REFRESH_GRACE (default 10)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ln -s "$ROOT/.venv" "$WORK/.venv"   # so .venv/bin/tokenbench reads as typed at the repository root
cd "$WORK"

shorten() { sed -E 's/([A-Za-z0-9_-]{20})[A-Za-z0-9_.-]{60,}/\1…/g'; }
show() { printf '\n$ %s\n' "$1"; eval "$1" 2>&1 | tr -d '\r' | { grep -viE '^(date|server|content-length):' || true; } | shorten; }

echo "## 1. log in"
show "jq -n --arg password \"\$ALICE_PASSWORD\" '{username: \"alice\", password: \$password}' > alice.json"
show "curl -s -D - -c cookies.txt -o login.json -H 'Content-Type: application/json' -d @alice.json \$BASE/auth/login"
show "jq . login.json"
TOKEN=$(jq -r .access_token login.json)

echo "## 2. call a protected route"
show "curl -s -H \"Authorization: Bearer \$TOKEN\" \$BASE/me | jq ."
show "curl -si \$BASE/me"
show "curl -si -H 'Authorization: Bearer not-a-token' \$BASE/me"
show "curl -si -H \"Authorization: Bearer \$TOKEN\" \$BASE/admin/users"

echo "## 3. inside the token"
show ".venv/bin/tokenbench inspect \$TOKEN"

echo "## 4. refresh"
show "curl -si -b cookies.txt -X POST \$BASE/auth/refresh"
show "cp cookies.txt old-cookies.txt"
show "curl -s -D - -b cookies.txt -c cookies.txt -o refreshed.json -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
show "jq .format refreshed.json"

echo "## 5. replay the old refresh token"
show "curl -s -b old-cookies.txt -c retried.txt -o /dev/null -w '%{http_code}\\n' -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
show "cmp <(grep refresh_token cookies.txt | cut -f7) <(grep refresh_token retried.txt | cut -f7) && echo 'same successor'"
show "sleep $GRACE_WAIT"
show "curl -si -b old-cookies.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
show "curl -si -b cookies.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"

echo "## 6. log out"
show "curl -s -c cookies.txt -o login.json -H 'Content-Type: application/json' -d @alice.json \$BASE/auth/login"
show "cp cookies.txt before-logout.txt"
show "curl -si -b cookies.txt -c cookies.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/logout"
show "curl -si -b before-logout.txt -H 'X-Requested-With: curl' -X POST \$BASE/auth/refresh"
show "curl -s -o /dev/null -w '%{http_code}\n' -H \"Authorization: Bearer \$(jq -r .access_token login.json)\" \$BASE/me"
