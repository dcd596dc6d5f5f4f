#!/usr/bin/env bash
# Fault test: PostgreSQL stopped and started again under webhook load.
#
# A throwaway PostgreSQL cluster of its own (so the outage touches nothing else on the
# machine) serves a build of refhub (as refhub_app, workers in process) while eight threads
# post signed deliveries with unique message ids. The cluster is stopped for OUTAGE_SECS and
# started again. Then it checks:
#   - while the database was down, deliveries were refused with 5xx (Meta retries those), never
#     acknowledged with 200;
#   - every delivery acknowledged with 200 is stored exactly once and, once the workers catch
#     up, processed exactly once (one timeline entry per acknowledged message);
#   - the service recovered by itself (deliveries after the outage are acknowledged again).
# Exits non-zero when any of that fails.
#
#   bash faults/postgres_outage.sh            # LOAD_SECS=24 OUTAGE_SECS=10
#   PROFILE=debug bash faults/postgres_outage.sh   # reuse the test build (what .ci/run does)
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=${FAULTS_PG_PORT:-5499}
DB=refhub_faults
PORT=8093
LOAD_SECS=${LOAD_SECS:-24}
OUTAGE_SECS=${OUTAGE_SECS:-10}
SECRET=faults-app-secret-0123456789
PAGE_FB=104857600000001
TARGET=${CARGO_TARGET_DIR:-target}
PROFILE=${PROFILE:-release}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
work=$(mktemp -d)
chmod 777 "$work"
app_pid=""
meta_pid=""
ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
pg() { as_postgres "$PG_BIN/pg_ctl -D $work/pg -l $work/pg.log -w -o '-p $PG_PORT -k $work -c listen_addresses=127.0.0.1' $*"; }
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$meta_pid" ] && kill "$meta_pid" 2>/dev/null || true
  pg stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> a PostgreSQL cluster of our own on port $PG_PORT"
as_postgres "$PG_BIN/initdb -D $work/pg -U postgres --auth=trust >/dev/null"
pg start >/dev/null

echo "==> build"
if [ "$PROFILE" = release ]; then
  cargo build -q --release -p refhub-api --bin refhub -p refhub-tests --bin fake_meta
else
  cargo build -q -p refhub-api --bin refhub -p refhub-tests --bin fake_meta
fi

echo "==> the stand-in Graph API (the page and the app, as Meta would know them)"
"$TARGET/$PROFILE/fake_meta" --page "$PAGE_FB:EAAB-faults:Faults" --app "1234567:$SECRET" >"$work/meta.log" 2>&1 &
meta_pid=$!
for _ in $(seq 1 50); do grep -q "listening on" "$work/meta.log" && break; sleep 0.1; done
META_URL="http://127.0.0.1:$(sed -n 's/listening on //p' "$work/meta.log")/v26.0"
psql "$ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
psql "$ADMIN_URL" -qAt -c "DO \$\$ BEGIN CREATE ROLE refhub_app LOGIN; EXCEPTION WHEN duplicate_object THEN ALTER ROLE refhub_app LOGIN; END \$\$"
DB_URL="${ADMIN_URL%/*}/$DB"
DATABASE_URL="$DB_URL" "$TARGET/$PROFILE/refhub" migrate >/dev/null

echo "==> serve"
DATABASE_URL="postgres://refhub_app@127.0.0.1:$PG_PORT/$DB" MIGRATE_ON_START=false APP_ENV=development \
  BIND_ADDR=127.0.0.1:$PORT PUBLIC_BASE_URL=http://127.0.0.1:$PORT WORKERS=1 WORKER_LEASE_SECS=5 \
  GRAPH_API_BASE_URL="$META_URL" \
  JWT_SECRET=faults-jwt-secret-0123456789-0123456789-abcdef ENCRYPTION_KEY=$(printf 'b%.0s' $(seq 64)) \
  RUST_LOG=warn "$TARGET/$PROFILE/refhub" serve >"$work/refhub.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
gql() {
  curl -fs -XPOST "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
    ${TOKEN:+-H "Authorization: Bearer $TOKEN"} -d "$1"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
TOKEN=$(gql '{"query":"mutation { signUp(input:{email:\"faults@example.com\", password:\"correct-Horse-battery-9\", tenantName:\"Faults\"}) { accessToken } }"}' | field "['data']['signUp']['accessToken']")
HOOK=$(gql "{\"query\":\"mutation { connectMessengerApp(input:{appId:\\\"1234567\\\", appSecret:\\\"$SECRET\\\", verifyToken:\\\"v\\\"}) { webhookUrl } }\"}" | field "['data']['connectMessengerApp']['webhookUrl']")
gql "{\"query\":\"mutation { connectPage(input:{facebookPageId:\\\"$PAGE_FB\\\", name:\\\"Faults\\\", accessToken:\\\"EAAB-faults\\\"}) { id } }\"}" >/dev/null

echo "==> load for ${LOAD_SECS}s; PostgreSQL down for ${OUTAGE_SECS}s in the middle"
python3 faults/load.py "$HOOK" "$SECRET" "$PAGE_FB" "$LOAD_SECS" "$work/results" &
load_pid=$!
sleep $(( (LOAD_SECS - OUTAGE_SECS) / 2 ))
pg stop -m fast >/dev/null
sleep "$OUTAGE_SECS"
pg start >/dev/null
wait "$load_pid"

acked=$(awk '$2 == 200' "$work/results" | wc -l)
refused=$(awk '$2 >= 500' "$work/results" | wc -l)
unanswered=$(awk '$2 == 0' "$work/results" | wc -l)
other=$(awk '$2 != 200 && $2 < 500 && $2 != 0' "$work/results" | wc -l)
echo "    $acked acknowledged, $refused refused with 5xx, $unanswered unanswered, $other other"

echo "==> waiting for the workers to catch up"
pending() { psql "$DB_URL" -qAt -c "SELECT count(*) FROM webhook_events WHERE status IN ('pending','processing','failed')"; }
for _ in $(seq 1 120); do [ "$(pending)" = "0" ] && break; sleep 1; done

awk '$2 == 200 { print $1 }' "$work/results" | sort > "$work/acked"
psql "$DB_URL" -qAt -c "SELECT item->'message'->>'mid' FROM webhook_events" | sort > "$work/stored_all"
sort -u "$work/stored_all" > "$work/stored"
psql "$DB_URL" -qAt -c "SELECT e.item->'message'->>'mid' FROM subscriber_interactions i JOIN webhook_events e ON e.tenant_id = i.tenant_id AND e.id = i.event_id" | sort > "$work/applied"
lost=$(comm -23 "$work/acked" "$work/stored" | wc -l)
twice=$(( $(wc -l < "$work/stored_all") - $(wc -l < "$work/stored") ))
not_applied=$(comm -23 "$work/acked" "$work/applied" | wc -l)
applied_twice=$(( $(wc -l < "$work/applied") - $(sort -u "$work/applied" | wc -l) ))
left=$(pending)
dead=$(psql "$DB_URL" -qAt -c "SELECT count(*) FROM webhook_events WHERE status = 'dead'")
after=$(python3 - "$work/results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
print(sum(1 for _, s in rows[-50:] if s == "200"))
PY
)

cat <<REPORT

PostgreSQL outage under webhook load ($LOAD_SECS s of load, database down ${OUTAGE_SECS}s)
  deliveries: $acked acknowledged (200), $refused refused (5xx), $unanswered unanswered, $other other
  acknowledged but not stored:     $lost
  stored twice:                    $twice
  acknowledged but not applied:    $not_applied
  applied twice:                   $applied_twice
  still waiting / dead:            $left / $dead
  of the last 50 deliveries, acknowledged: $after
REPORT

status=0
[ "$lost" -eq 0 ] || { echo "FAIL: acknowledged deliveries were lost"; status=1; }
[ "$twice" -eq 0 ] || { echo "FAIL: deliveries stored twice"; status=1; }
[ "$not_applied" -eq 0 ] || { echo "FAIL: acknowledged deliveries were never applied"; status=1; }
[ "$applied_twice" -eq 0 ] || { echo "FAIL: deliveries applied twice"; status=1; }
[ "$refused" -gt 0 ] || { echo "FAIL: the outage refused nothing (did PostgreSQL stop?)"; status=1; }
[ "$other" -eq 0 ] || { echo "FAIL: answers other than 200 and 5xx"; status=1; }
[ "$after" -gt 40 ] || { echo "FAIL: the service did not recover after the outage"; status=1; }
[ "$status" -eq 0 ] && echo "faults: PostgreSQL outage: ok"
exit "$status"
