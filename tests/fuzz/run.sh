#!/usr/bin/env bash
# A bounded GraphQL fuzz run (schemathesis) against the real gateway binary.
#
# Starts the already-built binary on a free port with a database of its own and the
# demo data, then runs schemathesis twice over every query and mutation found by
# introspection: anonymously, then with an access token of a demo account. Fails on
# any 5xx, a body that is not a GraphQL JSON response, an error without
# `extensions.code`, an `INTERNAL` error, a request that does not answer within
# FUZZ_REQUEST_TIMEOUT or whose connection drops (a hang, a crash), a panic in the
# server's log, or a server that no longer answers at the end. Each pass has a
# wall-clock cap: on a slow machine it stops there and says so, without failing.
#
# Backend: SQLite in a temp file by default; PostgreSQL when TEST_DATABASE_URL is set
# (a database `smartnpc_fuzz_<pid>_<random>` is created on that server and dropped
# at the end, even on failure); Redis as the event bus when TEST_REDIS_URL is set (a
# channel prefix of its own).
#
# Reproducible: a fixed Hypothesis seed (FUZZ_SEED), a fixed number of examples per
# operation (FUZZ_MAX_EXAMPLES), no example database carried between runs.
#
# Usage (from anywhere): tests/fuzz/run.sh [NAME]
#   NAME labels the summary line (default: the backend).
#   SMART_NPC_BIN       the binary (default: ${CARGO_TARGET_DIR:-target}/debug/smart-npc)
#   FUZZ_MAX_EXAMPLES   examples per operation and pass (default 60)
#   FUZZ_SEED           Hypothesis seed (default 20251201)
#   FUZZ_PASS_TIMEOUT   wall-clock cap of one pass in seconds (default 85; reaching it
#                       stops the pass early, said in the summary, not a failure)
#   FUZZ_REQUEST_TIMEOUT  seconds one request may take (default 10)
#   FUZZ_LOGIN          the demo account of the authenticated pass (default admin)
#   FUZZ_KEEP=1         keep the work directory (server log, reports) for inspection;
#                       it is always kept when the run fails
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

BIN=${SMART_NPC_BIN:-${CARGO_TARGET_DIR:-target}/debug/smart-npc}
VENV=tests/fuzz/.venv
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-60}
SEED=${FUZZ_SEED:-20251201}
PASS_TIMEOUT=${FUZZ_PASS_TIMEOUT:-85}
REQUEST_TIMEOUT=${FUZZ_REQUEST_TIMEOUT:-10}
LOGIN=${FUZZ_LOGIN:-admin}

if [ -n "${TEST_DATABASE_URL:-}" ]; then backend=postgres; else backend=sqlite; fi
[ -n "${TEST_REDIS_URL:-}" ] && backend="$backend+redis"
NAME=${1:-$backend}

say() { echo "fuzz[$NAME]: $*"; }
die() { say "$*" >&2; exit 2; }

[ -x "$BIN" ] || die "no binary at $BIN (build it first: cargo build)"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$VENV/bin/schemathesis" ] || die "schemathesis is not installed: python3 -m venv $VENV && $VENV/bin/pip install -r tests/fuzz/requirements.txt"
PY=$ROOT/$VENV/bin/python
ST=$ROOT/$VENV/bin/schemathesis
HOOKS=$ROOT/tests/fuzz/hooks.py

WORK=$(mktemp -d -t smartnpc-fuzz.XXXXXX)
SERVER_PID=""
PG_DB=""

cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  if [ -n "$PG_DB" ]; then
    psql "$TEST_DATABASE_URL" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" \
      || echo "fuzz[$NAME]: could not drop database $PG_DB" >&2
  fi
  if [ "${FUZZ_KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "fuzz[$NAME]: work directory kept (server log, JSON reports): $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the server's own database and Redis prefix -----------------------------------
unique="$$_$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  PG_DB="smartnpc_fuzz_$unique"
  psql "$TEST_DATABASE_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$PG_DB\"" \
    || { PG_DB=""; die "could not create a database on TEST_DATABASE_URL's server"; }
  DATABASE_URL=$("$PY" - "$TEST_DATABASE_URL" "$PG_DB" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit
url = urlsplit(sys.argv[1])
print(urlunsplit(url._replace(path="/" + sys.argv[2])))
EOF
  )
else
  DATABASE_URL="sqlite://$WORK/fuzz.db?mode=rwc"
fi
server_env=(
  DATABASE_URL="$DATABASE_URL"
  BIND_ADDR=127.0.0.1:0
  AUTO_SEED_DEMO=true
  SMART_NPC_PRODUCTION=false
  RUST_LOG="${RUST_LOG:-info}"
  NO_COLOR=1
)
if [ -n "${TEST_REDIS_URL:-}" ]; then
  server_env+=(REDIS_URL="$TEST_REDIS_URL" REDIS_CHANNEL_PREFIX="smartnpc-fuzz-$unique")
fi

# --- start the gateway and wait until it is ready --------------------------------
LOG=$WORK/server.log
env -u REDIS_URL "${server_env[@]}" "$BIN" serve >"$LOG" 2>&1 &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 120); do
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$LOG" >&2; die "the server exited at start-up"; }
  if [ -z "$BASE" ]; then
    BASE=$(sed -n 's|.*GraphiQL at \(http://[^/ ]*\)/.*|\1|p' "$LOG" | head -1)
  fi
  if [ -n "$BASE" ] && curl -fsS -m 2 "$BASE/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
[ -n "$BASE" ] && curl -fsS -m 2 "$BASE/readyz" >/dev/null 2>&1 \
  || { tail -20 "$LOG" >&2; die "the server did not become ready"; }
say "server ready at $BASE ($backend, $(basename "$BIN"), seed $SEED, $MAX_EXAMPLES examples per operation)"

# --- an access token for the authenticated pass (before the fuzzer can throttle sign-in)
PASSWORD=${SMART_NPC_DEMO_PASSWORD:-Heshun-Demo-2025}
TOKEN=$("$PY" - "$BASE/graphql" "$LOGIN" "$PASSWORD" <<'EOF'
import json, sys, urllib.request
url, login, password = sys.argv[1:]
query = "mutation($l: String!, $p: String!) { signIn(login: $l, password: $p) { accessToken } }"
body = json.dumps({"query": query, "variables": {"l": login, "p": password}}).encode()
request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:
    answer = json.load(response)
print(answer["data"]["signIn"]["accessToken"])
EOF
) || die "could not sign in as $LOGIN"

# --- the passes ------------------------------------------------------------------
total_cases=0 total_failures=0 total_errors=0 total_capped=0 status=0
run_pass() { # run_pass LABEL [schemathesis options...]
  local label=$1; shift
  local report=$WORK/$label.json
  say "pass $label"
  # Run from the work directory: schemathesis and Hypothesis keep caches in the cwd.
  # At the cap schemathesis is interrupted (SIGINT): it stops, reports what it ran and
  # writes its JSON report; only if it ignores that is it killed 20 s later.
  (cd "$WORK" && SCHEMATHESIS_HOOKS="$HOOKS" timeout -s INT -k 20 "$PASS_TIMEOUT" "$ST" run "$BASE/graphql" \
    --phases fuzzing,stateful \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" --generation-database none \
    --checks no_server_error,json_response,errors_have_code,no_internal_error \
    --request-timeout "$REQUEST_TIMEOUT" --workers 2 --no-color \
    --report json --report-json-path "$report" "$@")
  local rc=$?
  local figures
  figures=$("$PY" - "$report" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("none 0 0 0 0 0 0")  # no report: schemathesis itself failed or was killed
    sys.exit()
t, ops = r["test_cases"], r["operations"]
# Distinct failures; errors (a request that got no answer) as distinct errors.
print(r["stop_reason"], t["generated"], t["unique_failures"], len(r["errors"]), round(r["running_time"]),
      ops["tested"], ops["selected"])
EOF
  )
  local stop cases failures errors seconds tested selected
  read -r stop cases failures errors seconds tested selected <<<"$figures"
  if [ "$stop" = none ]; then
    say "pass $label: no report (exit $rc)"
    total_errors=$((total_errors + 1)); status=1
    return
  fi
  local note=""
  if [ "$rc" -eq 124 ]; then
    # Slow, not hung: a request that hangs fails on its own after FUZZ_REQUEST_TIMEOUT.
    note=" (stopped at the ${PASS_TIMEOUT}s cap; $tested of $selected operations reached)"
    total_capped=$((total_capped + 1))
  elif [ "$rc" -ne 0 ]; then
    status=1
  fi
  say "pass $label: $cases cases, $failures failures, $errors errors in ${seconds}s$note (exit $rc)"
  total_cases=$((total_cases + cases))
  total_failures=$((total_failures + failures))
  total_errors=$((total_errors + errors))
  [ "$failures" -eq 0 ] && [ "$errors" -eq 0 ] || status=1
}

started=$(date +%s)
run_pass anonymous
# signOut would revoke the very session the pass runs on.
run_pass "bearer-$LOGIN" -H "Authorization: Bearer $TOKEN" --exclude-name MutationRoot.signOut
# Informational: whether the pass ran signed in to the end (the fuzzer might disable
# the account or change its roles; that is allowed, it only narrows what was reached).
if curl -fsS -m 10 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data '{"query":"{ me { id } }"}' "$BASE/graphql" | grep -q '"me":{"id"'; then
  say "the $LOGIN session was still valid after its pass"
else
  say "the $LOGIN session no longer worked after its pass (later requests ran unauthenticated)"
fi
elapsed=$(( $(date +%s) - started ))

# --- the server must have survived, without a panic ---------------------------------
if ! kill -0 "$SERVER_PID" 2>/dev/null || ! curl -fsS -m 5 "$BASE/healthz" >/dev/null 2>&1; then
  say "the server died during the run"; tail -40 "$LOG" >&2; status=1
elif ! curl -fsS -m "$REQUEST_TIMEOUT" -H 'Content-Type: application/json' \
    --data '{"query":"{ townships { totalCount } }"}' "$BASE/graphql" | grep -q '"totalCount"'; then
  say "the server no longer answers GraphQL within ${REQUEST_TIMEOUT}s after the run"; status=1
fi
panics=$(grep -c "panicked at" "$LOG")
if [ "$panics" -gt 0 ]; then
  say "$panics panic(s) in the server log:"
  grep -A2 "panicked at" "$LOG" | head -30
  status=1
fi

verdict=ok
if [ "$status" -ne 0 ]; then
  verdict=FAILED
  say "the server's warnings and errors, and its last lines:"
  grep -E ' (WARN|ERROR) ' "$LOG" | tail -20
  tail -5 "$LOG"
fi
capped=""; [ "$total_capped" -eq 0 ] || capped=" ($total_capped of 2 passes stopped at the cap)"
say "summary: $total_cases cases, $total_failures failures, $total_errors errors, $panics panics in ${elapsed}s$capped: $verdict"
exit "$status"
