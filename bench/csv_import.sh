#!/usr/bin/env bash
# Subscriber CSV import on a fresh database (PostgreSQL never analyzed: autovacuum off, as a
# new deployment is), a release build:
#   - 50,000 rows (psid, a TEXT field, a tag): the time to the answer, on SQLite and PostgreSQL;
#   - a 32 MiB body of one-digit rows (far past the row limit): the time to the 400, and the
#     server's peak and after-the-fact resident memory.
# REFHUB names a binary to measure instead of building one (A/B runs of two builds).
#
#   bash bench/csv_import.sh                 # both databases
#   DATABASES=postgres bash bench/csv_import.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=refhub_bench_csv_import
DATABASES=${DATABASES:-sqlite postgres}
APP_PORT=${APP_PORT:-8093}
TARGET=${CARGO_TARGET_DIR:-target}
REFHUB=${REFHUB:-}
work=$(mktemp -d)
app_pid=
cleanup() { [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true; [ -z "${meta_pid:-}" ] || kill "$meta_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

[ -n "$REFHUB" ] || cargo build -q --release -p refhub-api --bin refhub
cargo build -q --release -p refhub-tests --bin fake_meta
# The stand-in Graph API: refhub checks page tokens with Meta and sets pages up.
"${CARGO_TARGET_DIR:-target}/release/fake_meta" --page "104857600000001:EAAB-csv-token:Csv" >"$work/meta.log" 2>&1 &
meta_pid=$!
for _ in $(seq 1 50); do grep -q "listening on" "$work/meta.log" && break; sleep 0.1; done
META_URL="http://127.0.0.1:$(sed -n 's/listening on //p' "$work/meta.log")/v26.0"
REFHUB=${REFHUB:-$TARGET/release/refhub}

python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
with open(f"{work}/rows.csv", "w") as f:
    f.write("psid,City,tags\n")
    for i in range(50_000):
        f.write(f"{1_000_000_000 + i},City {i},vip\n")
with open(f"{work}/digits.csv", "wb") as f:
    f.write(b"psid\n" + b"1\n" * (32 * 1024 * 1024 // 2 - 3))
EOF

kib() { awk -v k="$1" '/^'"$1"':/ { print int($2 / 1024) }' "/proc/$app_pid/status"; }

start() { # $1: database
  local url
  if [ "$1" = postgres ]; then
    psql "$ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
    psql "$ADMIN_URL" -qAt -c "DO \$\$ BEGIN CREATE ROLE refhub_app LOGIN; EXCEPTION WHEN duplicate_object THEN ALTER ROLE refhub_app LOGIN; END \$\$"
    DATABASE_URL="${ADMIN_URL%/*}/$DB" "$REFHUB" migrate >/dev/null
    url="postgres://refhub_app@127.0.0.1:5432/$DB"
  else
    url="sqlite://$work/bench.db?mode=rwc"
    DATABASE_URL="$url" "$REFHUB" migrate >/dev/null
  fi
  DATABASE_URL="$url" MIGRATE_ON_START=false APP_ENV=development WORKERS=0 \
    BIND_ADDR=127.0.0.1:$APP_PORT PUBLIC_BASE_URL=http://127.0.0.1:$APP_PORT GRAPH_API_BASE_URL="$META_URL" \
    JWT_SECRET=bench-jwt-secret-0123456789-0123456789-abcdef ENCRYPTION_KEY=$(printf 'a%.0s' $(seq 64)) \
    RUST_LOG=warn "$REFHUB" serve >"$work/refhub-$1.log" 2>&1 &
  app_pid=$!
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$APP_PORT/readyz" >/dev/null && break; sleep 0.2; done
}

gql() {
  curl -fs -XPOST "http://127.0.0.1:$APP_PORT/graphql" -H 'content-type: application/json' \
    ${TOKEN:+-H "Authorization: Bearer $TOKEN"} -d "$1"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
post() { # $1: file; prints "status seconds"
  curl -s -o "$work/answer.json" -w '%{http_code} %{time_total}\n' -XPOST \
    "http://127.0.0.1:$APP_PORT/api/pages/$PAGE/subscribers/import" \
    -H "Authorization: Bearer $TOKEN" -H 'content-type: text/csv' --data-binary "@$1"
}

for database in $DATABASES; do
  start "$database"
  TOKEN=
  TOKEN=$(gql '{"query":"mutation { signUp(input:{email:\"csv@example.com\", password:\"correct-Horse-battery-9\", tenantName:\"Csv\"}) { accessToken } }"}' | field "['data']['signUp']['accessToken']")
  PAGE=$(gql '{"query":"mutation { connectPage(input:{facebookPageId:\"104857600000001\", name:\"Csv\", accessToken:\"EAAB-csv-token\"}) { id } }"}' | field "['data']['connectPage']['id']")
  gql '{"query":"mutation { createCustomField(input:{name:\"City\", type: TEXT}) { id } }"}' >/dev/null
  gql '{"query":"mutation { createTag(input:{name:\"vip\"}) { id } }"}' >/dev/null
  before=$(kib VmRSS)

  read -r status seconds < <(post "$work/digits.csv")
  echo "$database: 32 MiB of one-digit rows: $status in ${seconds}s; peak RSS $(kib VmHWM) MiB (from $before), after $(kib VmRSS) MiB"
  read -r status seconds < <(post "$work/rows.csv")
  echo "$database: 50,000 new rows: $status in ${seconds}s ($(head -c 60 "$work/answer.json"))"
  read -r status seconds < <(post "$work/rows.csv")
  echo "$database: the same 50,000 rows again (updates): $status in ${seconds}s; peak RSS $(kib VmHWM) MiB"
  kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=
done
