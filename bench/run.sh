#!/usr/bin/env bash
# `make bench`: page throughput under gunicorn next to a bare Django view, with the page cache
# off and on, then orders per second on one hot variant. See docs/benchmarks.md.
#
# Environment (all optional):
#   BENCH_DATABASE_URL  postgres://postgres@127.0.0.1:5432/shequn_bench (created if missing)
#   BENCH_REDIS_URL     redis://127.0.0.1:6379/7 (flushed before each page-cache mode)
#   BENCH_PRODUCTS      100000     demo products to load (loaded once; skipped when present)
#   BENCH_DURATION      10         seconds of wrk per page
#   BENCH_CONNECTIONS   4          wrk connections
#   BENCH_PORT          8765       gunicorn port on 127.0.0.1
#   BENCH_ORDER_SECONDS 10         seconds of the order-rate race (0 skips it)
#   BENCH_SEARCH_EN / BENCH_SEARCH_ZH  the words searched (default smartphone / 绿茶)
#   BENCH_SETTLE_ORDERS 100000     shop orders settled by bench/settle_rate.py (0 skips it)
#   BENCH_SETTLE_DATABASE_URL      .../shequn_settle_bench (dropped and created each run)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
GUNICORN="$ROOT/.venv/bin/gunicorn"

DB_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shequn_bench}"
REDIS="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/7}"
PRODUCTS="${BENCH_PRODUCTS:-100000}"
DURATION="${BENCH_DURATION:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-4}"
PORT="${BENCH_PORT:-8765}"
ORDER_SECONDS="${BENCH_ORDER_SECONDS:-10}"
HOST="127.0.0.1"
BASE="http://$HOST:$PORT"

# The server runs as in production: DEBUG off, static files by WhiteNoise from collectstatic,
# Redis cache; TLS redirects off because wrk talks plain HTTP to localhost.
export DATABASE_URL="$DB_URL" REDIS_URL="$REDIS"
export DEBUG=0 SECRET_KEY="bench-only-secret-key-not-for-production-0123456789abcdef"
export ALLOWED_HOSTS="$HOST,localhost" SECURE_SSL_REDIRECT=0 SECURE_HSTS_SECONDS=0
export DATA_DIR="$ROOT/.data/bench" CACHE_KEY_PREFIX="bench" LOG_LEVEL=ERROR
mkdir -p "$DATA_DIR"

command -v wrk >/dev/null || {
  echo "Installing wrk (Debian package)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
    || { echo "wrk is missing: apt-get install wrk"; exit 1; }
}

GUNICORN_PID=""
stop_server() {
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$GUNICORN_PID" 2>/dev/null || true
    wait "$GUNICORN_PID" 2>/dev/null || true
  fi
  GUNICORN_PID=""
}
trap stop_server EXIT INT TERM

echo "== Database ${DB_URL##*/}"
DB_NAME="${DB_URL##*/}"
ADMIN_URL="${DB_URL%/*}/postgres"
if ! psql "$ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
  psql "$ADMIN_URL" -qc "CREATE DATABASE \"$DB_NAME\""
fi
"$PY" manage.py migrate --noinput -v 0

LOADED="$("$PY" bench/targets.py count)"
if [ "$LOADED" -lt "$PRODUCTS" ]; then
  echo "== Loading the demo catalog: $PRODUCTS products ($LOADED present)"
  "$PY" manage.py seed_demo --products "$PRODUCTS" > "$DATA_DIR/seed.log"
  grep -v -e '@' -e 'log-ins' "$DATA_DIR/seed.log"
else
  echo "== Demo catalog present: $LOADED products"
fi
# Fresh statistics and visibility maps after the bulk load (autovacuum may be off).
psql "$DB_URL" -qc "VACUUM ANALYZE"

"$PY" manage.py collectstatic --noinput -v 0

mapfile -t PAGES < <("$PY" bench/targets.py urls)
RESULTS="$DATA_DIR/results.tsv"
: > "$RESULTS"

start_server() {  # $1: PAGE_CACHE_ENABLED value
  PAGE_CACHE_ENABLED="$1" "$GUNICORN" marketplace.wsgi:application --workers 2 --worker-class sync \
    --bind "$HOST:$PORT" --log-level warning --access-logfile /dev/null --error-logfile "$DATA_DIR/gunicorn.log" &
  GUNICORN_PID=$!
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return 0
    kill -0 "$GUNICORN_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "gunicorn did not start; see $DATA_DIR/gunicorn.log"; tail -20 "$DATA_DIR/gunicorn.log"; exit 1
}

measure() {  # $1 mode, $2 name, $3 path
  local url="$BASE$3" status out rps non2xx errors cache
  status="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
  if [ "$status" != "200" ]; then
    echo "   $2 $3 answers HTTP $status: not measured"
    printf '%s\t%s\t%s\t0\t1\t0\tHTTP %s\n' "$1" "$2" "$3" "$status" >> "$RESULTS"
    return 0
  fi
  wrk -t 2 -c "$CONNECTIONS" -d 2s "$url" > /dev/null  # warm-up (fills the page cache when on)
  cache="$(curl -s -D - -o /dev/null "$url" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-page-cache" {print $2}')"
  out="$(wrk -t 2 -c "$CONNECTIONS" -d "${DURATION}s" --timeout 10s "$url")"
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<< "$out")"
  errors="$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<< "$out")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${rps:-0}" "${non2xx:-0}" "${errors:-0}" "$cache" >> "$RESULTS"
  printf '   %-10s %-48s %10s req/s%s\n' "$2" "$3" "${rps:-0}" "${cache:+  (X-Page-Cache: $cache)}"
}

for cache_enabled in 0 1; do
  mode=$([ "$cache_enabled" = 1 ] && echo cache_on || echo cache_off)
  echo "== Pages, $mode: gunicorn 2 sync workers on $BASE, wrk ${DURATION}s x $CONNECTIONS connections per page"
  redis-cli -u "$REDIS" flushdb > /dev/null
  start_server "$cache_enabled"
  for page in "${PAGES[@]}"; do
    measure "$mode" "${page%%$'\t'*}" "${page#*$'\t'}"
  done
  stop_server
done

"$PY" bench/report.py "$RESULTS"

if [ "$ORDER_SECONDS" != "0" ]; then
  echo
  echo "== Orders on one hot variant: 16 buyers in parallel through orders.services.checkout.order_place"
  # As served: 16 buyers over 2 worker processes (like gunicorn's 2 workers); then the same 16
  # threads in one process, where Python's GIL is the ceiling.
  "$PY" bench/order_rate.py --threads 16 --processes 2 --seconds "$ORDER_SECONDS" --pgbench
  "$PY" bench/order_rate.py --threads 16 --processes 1 --seconds "$ORDER_SECONDS"
fi

SETTLE_ORDERS="${BENCH_SETTLE_ORDERS:-100000}"
if [ "$SETTLE_ORDERS" != "0" ]; then
  echo
  echo "== Settlement of $SETTLE_ORDERS completed shop orders in one run, next to a plain bulk INSERT"
  # A fresh database each time: settling is append-only (entries cannot be deleted), so a run
  # cannot be undone and repeated on the same data.
  SETTLE_URL="${BENCH_SETTLE_DATABASE_URL:-${DB_URL%/*}/shequn_settle_bench}"
  SETTLE_DB="${SETTLE_URL##*/}"
  psql "${SETTLE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $SETTLE_DB" -c "CREATE DATABASE $SETTLE_DB"
  DATABASE_URL="$SETTLE_URL" "$PY" bench/settle_rate.py --orders "$SETTLE_ORDERS"
fi
