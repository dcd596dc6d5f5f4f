#!/usr/bin/env bash
# Webhook ingest benchmark: a release build on PostgreSQL, wrk on loopback posting signed bodies
# of realistic variety, beside two ceilings measured in the same run on the same machine:
#   - a bare actix-web handler that reads the body and answers 200 (tests/src/bin/bare_ceiling.rs)
#   - pgbench inserting one comparable row per transaction at the same concurrency.
# Reports acknowledged requests/s, p50 and p99, end-to-end processing throughput and the
# server's resident memory.
#
# Then, once the backlog is empty, a steady phase: deliveries paced to about STEADY_RATE a
# second (0: no steady phase), to show whether processing keeps pace with traffic the machine
# can carry.
#
#   bash bench/webhook.sh                     # defaults: 32 connections, 2 threads, 20 s
#   CONNS=64 DURATION=30s bash bench/webhook.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=refhub_bench
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20s}
# More bodies than a run sends: a body sent twice is a duplicate, cheaper than a new event.
BODIES_COUNT=${BODIES_COUNT:-600000}
STEADY_RATE=${STEADY_RATE:-1000}
STEADY_CONNS=${STEADY_CONNS:-8}
BIN=${CARGO_TARGET_DIR:-target}/release
# A refhub binary to measure instead of building one (A/B runs of two builds).
REFHUB=${REFHUB:-}
APP_PORT=8088
BARE_PORT=8090
SECRET=bench-app-secret-0123456789
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v pgbench >/dev/null || { echo "pgbench is missing (postgresql-contrib)"; exit 1; }
pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start

echo "==> release build"
[ -n "$REFHUB" ] || cargo build -q --release -p refhub-api --bin refhub
REFHUB=${REFHUB:-$BIN/refhub}
cargo build -q --release -p refhub-tests --bin bare_ceiling
cargo build -q --release -p refhub-tests --bin fake_meta
# The stand-in Graph API: refhub checks page tokens with Meta and sets pages up.
"${CARGO_TARGET_DIR:-target}/release/fake_meta" --page "104857600000001:EAAB-bench-token:Bench" --app "1234567:$SECRET" >"$work/meta.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 50); do grep -q "listening on" "$work/meta.log" && break; sleep 0.1; done
META_URL="http://127.0.0.1:$(sed -n 's/listening on //p' "$work/meta.log")/v26.0"

psql_admin() { psql "$ADMIN_URL" -qAt "$@"; }
BENCH_URL="${ADMIN_URL%/*}/$DB"
psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
psql_admin -c "DO \$\$ BEGIN CREATE ROLE refhub_app LOGIN; EXCEPTION WHEN duplicate_object THEN ALTER ROLE refhub_app LOGIN; END \$\$"
DATABASE_URL="$BENCH_URL" "$REFHUB" migrate >/dev/null

echo "==> starting refhub (PostgreSQL, app role, in-process workers)"
DATABASE_URL="postgres://refhub_app@127.0.0.1:5432/$DB" MIGRATE_ON_START=false APP_ENV=development \
  BIND_ADDR=127.0.0.1:$APP_PORT PUBLIC_BASE_URL=http://127.0.0.1:$APP_PORT GRAPH_API_BASE_URL="$META_URL" \
  JWT_SECRET=bench-jwt-secret-0123456789-0123456789-abcdef ENCRYPTION_KEY=$(printf 'a%.0s' $(seq 64)) \
  DB_MAX_CONNECTIONS=${DB_MAX_CONNECTIONS:-16} WORKERS=${WORKERS:-1} RUST_LOG=warn \
  "$REFHUB" serve >"$work/refhub.log" 2>&1 &
app_pid=$!; pids+=("$app_pid")
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$APP_PORT/readyz" >/dev/null && break; sleep 0.2; done

gql() {
  curl -fs -XPOST "http://127.0.0.1:$APP_PORT/graphql" -H 'content-type: application/json' \
    ${TOKEN:+-H "Authorization: Bearer $TOKEN"} -d "$1"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
TOKEN=$(gql '{"query":"mutation { signUp(input:{email:\"bench@example.com\", password:\"correct-Horse-battery-9\", tenantName:\"Bench\"}) { accessToken } }"}' | field "['data']['signUp']['accessToken']")
HOOK=$(gql "{\"query\":\"mutation { connectMessengerApp(input:{appId:\\\"1234567\\\", appSecret:\\\"$SECRET\\\", verifyToken:\\\"v\\\"}) { webhookUrl } }\"}" | field "['data']['connectMessengerApp']['webhookUrl']")
PAGE=$(gql '{"query":"mutation { connectPage(input:{facebookPageId:\"104857600000001\", name:\"Bench\", accessToken:\"EAAB-bench-token\"}) { id } }"}' | field "['data']['connectPage']['id']")
F1=$(gql '{"query":"mutation { createCustomField(input:{name:\"Level\", type: TEXT}) { id } }"}' | field "['data']['createCustomField']['id']")
gql '{"query":"mutation { createCustomField(input:{name:\"City\", type: TEXT, number: 738}) { id } }"}' >/dev/null
gql '{"query":"mutation { createCustomField(input:{name:\"Age\", type: NUMBER, number: 514}) { id } }"}' >/dev/null
TAG=$(gql '{"query":"mutation { createTag(input:{name:\"Bench\"}) { id } }"}' | field "['data']['createTag']['id']")
for ref in tutorial summer_coupon; do
  gql "{\"query\":\"mutation { createRefLink(input:{pageId:\\\"$PAGE\\\", ref:\\\"$ref\\\", defaultFieldId:\\\"$F1\\\", tagIds:[\\\"$TAG\\\"]}) { id } }\"}" >/dev/null
done
gql "{\"query\":\"mutation { createNotificationTopic(input:{pageId:\\\"$PAGE\\\", title:\\\"weekly deals\\\", defaultCadence: WEEKLY}) { id } }\"}" >/dev/null

echo "==> generating $BODIES_COUNT signed bodies"
python3 bench/make_bodies.py "$SECRET" 104857600000001 "$BODIES_COUNT" "$work/bodies.lua"
run_wrk() { BODIES="$work/bodies.lua" WRK_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/post_bodies.lua "$1" | grep '^RESULT'; }
# run_wrk_paced URL FIRST_BODY PACE_MS: STEADY_CONNS connections, each pausing between requests.
run_wrk_paced() {
  BODIES="$work/bodies.lua" WRK_THREADS=$THREADS FIRST_BODY=$2 PACE_MS=$3 \
    wrk -t"$THREADS" -c"$STEADY_CONNS" -d"$DURATION" -s bench/post_bodies.lua "$1" | grep '^RESULT'
}
value() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
# A warning when a run went past the last body: its requests after that resent duplicates,
# which are cheaper than new events (and the steady phase would measure no processing).
ran_out() {
  [ "$(value last_body "$1")" -le "$BODIES_COUNT" ] ||
    echo " (WARNING: past the $BODIES_COUNT bodies, duplicates were resent; raise BODIES_COUNT)"
}

echo "==> ceiling 1: bare actix-web handler"
BIND_ADDR=127.0.0.1:$BARE_PORT "$BIN"/bare_ceiling & bare_pid=$!; pids+=("$bare_pid")
sleep 0.5
bare=$(run_wrk "http://127.0.0.1:$BARE_PORT/")
kill "$bare_pid"

# A checkpoint during the flood makes commits wait on the disk (a long tail that comes and goes
# from run to run): the report says whether one started, and how much checkpoints wrote
# meanwhile (one started earlier may still be writing). PostgreSQL 15/16's view.
checkpoints() {
  psql "$ADMIN_URL" -qAt -F ' ' -c "SELECT checkpoints_timed + checkpoints_req, buffers_checkpoint FROM pg_stat_bgwriter" 2>/dev/null || echo "0 0"
}
echo "==> ceiling 2: pgbench, one comparable row per transaction, $CONNS clients"
psql_admin -d "$DB" -c "CREATE TABLE bench_events (LIKE webhook_events INCLUDING DEFAULTS INCLUDING INDEXES)" 2>/dev/null \
  || psql "$BENCH_URL" -qAt -c "CREATE TABLE bench_events (LIKE webhook_events INCLUDING DEFAULTS INCLUDING INDEXES)"
# Both measured runs start from a checkpoint just taken, so that neither inherits the other's
# unwritten pages: a checkpoint during a run (forced by the WAL of the runs before it) makes
# its commits wait on the disk, and came and went from run to run (80-115% of pgbench).
checkpoint_now() { psql "$ADMIN_URL" -qAt -c "CHECKPOINT" >/dev/null; }
checkpoint_now
read -r pgb_checkpoints_before pgb_buffers_before <<<"$(checkpoints)"
pgb=$(pgbench -n -c "$CONNS" -j "$THREADS" -T "${DURATION%s}" -f bench/pgbench_insert.sql "$BENCH_URL" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)
read -r pgb_checkpoints_after pgb_buffers_after <<<"$(checkpoints)"
pgb_checkpoints="$((pgb_checkpoints_after - pgb_checkpoints_before)) started, $((pgb_buffers_after - pgb_buffers_before)) buffers written by checkpoints"
psql "$BENCH_URL" -qAt -c "DROP TABLE bench_events"

echo "==> refhub: signed webhooks, durable and deduplicated, workers processing meanwhile"
# Production PostgreSQL runs autovacuum, which keeps statistics and plans current as the tables
# grow from empty; if this server runs with it off (this build machine does), do its ANALYZE part.
if [ "$(psql "$BENCH_URL" -qAt -c "SHOW autovacuum")" = off ]; then
  echo "    autovacuum is off on this server: analyzing every 10 s, as it would"
  ( while sleep 10; do psql "$BENCH_URL" -qAt -c "ANALYZE" >/dev/null 2>&1 || true; done ) &
  pids+=("$!")
fi
# CPU per acknowledged request, refhub's and PostgreSQL's (all its processes), over the load
# (with workers on, it includes their processing during the load).
. bench/cpu_time.sh
# shellcheck disable=SC2046 # one pid per word
ours_before=$(ticks "$app_pid"); pg_before=$(ticks $(postgres_pids))
checkpoint_now
read -r checkpoints_before checkpoint_buffers_before <<<"$(checkpoints)"
start=$(date +%s.%N)
hook=$(run_wrk "$HOOK")
read -r checkpoints_after checkpoint_buffers_after <<<"$(checkpoints)"
checkpoints_during="$((checkpoints_after - checkpoints_before)) started, $((checkpoint_buffers_after - checkpoint_buffers_before)) buffers written by checkpoints"
acked_at=$(date +%s.%N)
# shellcheck disable=SC2046
ours_after=$(ticks "$app_pid"); pg_after=$(ticks $(postgres_pids))
acked=$(value requests "$hook")
backlog() { psql "$BENCH_URL" -qAt -c "SELECT count(*) FROM webhook_events WHERE status IN ('pending','processing','failed')"; }
stored_at_ack=$(psql "$BENCH_URL" -qAt -c "SELECT count(*) FROM webhook_events")
left_at_ack=$(backlog)
cpu_per_ack="$(per_request_ms "$ours_before" "$ours_after" "${acked%.*}") ms refhub, $(per_request_ms "$pg_before" "$pg_after" "${acked%.*}") ms PostgreSQL"

rss_kb=$(ps -o rss= -p "$app_pid" | tr -d ' ')
deadline=$(( $(date +%s) + ${DRAIN_LIMIT_SECS:-900} ))
while [ "$(backlog)" != "0" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
drained_at=$(date +%s.%N)
left=$(backlog)
stored=$(psql "$BENCH_URL" -qAt -c "SELECT count(*) FROM webhook_events")
bad=$(psql "$BENCH_URL" -qAt -c "SELECT count(*) FROM webhook_events WHERE status IN ('dead')")
processing_rate=$(python3 -c "print(round(($stored - $left) / ($drained_at - $start), 1))")
drain_after=$(python3 -c "print(round($drained_at - $acked_at, 1))")
# Over wrk's own duration: its start-up (loading the bodies) is not load.
during_load=$(python3 -c "print(round(($stored_at_ack - $left_at_ack) / ${DURATION%s}, 1))")

steady_report="steady phase: skipped"
if [ "$STEADY_RATE" != 0 ] && [ "$left" = 0 ]; then
  pace_ms=$(( STEADY_CONNS * 1000 / STEADY_RATE ))
  echo "==> steady: $STEADY_CONNS connections, each pausing ${pace_ms} ms between deliveries"
  stored_before=$stored
  ( while :; do backlog; sleep 1; done ) >"$work/steady_backlog" 2>/dev/null & sampler=$!; pids+=("$sampler")
  steady=$(run_wrk_paced "$HOOK" "$(value last_body "$hook")" "$pace_ms")
  kill "$sampler" 2>/dev/null || true
  steady_left=$(backlog)
  steady_max=$(sort -n "$work/steady_backlog" | tail -n 1)
  steady_stored=$(psql "$BENCH_URL" -qAt -c "SELECT count(*) FROM webhook_events")
  steady_processed=$(python3 -c "print(round(($steady_stored - $stored_before - $steady_left) / ${DURATION%s}, 1))")
  steady_report="steady phase: $(value rps "$steady") acknowledged/s (p50 $(value p50_ms "$steady") ms, p99 $(value p99_ms "$steady") ms), $steady_processed processed/s; backlog at most ${steady_max:-?} while it ran, $steady_left at its end$(ran_out "$steady")"
fi

cat <<REPORT

Webhook ingest benchmark ($(nproc) cores, $CONNS connections, $THREADS wrk threads, $DURATION per run)
| what                                   | requests/s | p50 ms | p99 ms |
|----------------------------------------|-----------:|-------:|-------:|
| bare actix-web handler (ceiling)       | $(value rps "$bare") | $(value p50_ms "$bare") | $(value p99_ms "$bare") |
| pgbench, 1 row per transaction (ceiling)| $pgb | | |
| refhub POST /webhooks/messenger/{key}  | $(value rps "$hook") | $(value p50_ms "$hook") | $(value p99_ms "$hook") |

refhub: $(value requests "$hook") requests acknowledged ($(value errors_status "$hook") non-2xx), $stored distinct events stored, $bad dead$(ran_out "$hook")
end-to-end processing: $processing_rate events/s ($left still waiting ${drain_after}s after the load stopped; $during_load events/s during the load)
$steady_report
CPU per acknowledged request during the load: $cpu_per_ack
PostgreSQL checkpoints during the load: $checkpoints_during (during pgbench: $pgb_checkpoints)
resident memory after the load: $((rss_kb / 1024)) MiB
REPORT
