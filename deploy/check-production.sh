#!/usr/bin/env bash
# A production-like Sésame on this machine, checked end to end (CI's "production-like stack"
# stage; runnable by hand too). It starts what it needs and stops it again:
#   - a database of its own on the local PostgreSQL, a Redis database of its own;
#   - real secrets generated for the run, DEBUG off, `manage.py check --deploy` with no warning;
#   - migrate, the translations, collectstatic; the demo's accounts and cards (loaded with
#     DEBUG on: the demo refuses to load otherwise; the server never runs with it);
#   - gunicorn with several workers (deploy/gunicorn.conf.py, metrics in multiprocess mode) and
#     the task worker (`manage.py db_worker`);
#   - nginx in front with deploy/nginx's site (a throw-away certificate): static files, the
#     upload limit;
#   - deploy/smoke.py over HTTPS through nginx: the probes, a staff login with the second
#     factor, a tap, a basket paid on the demo provider, the receipt (PDF) downloaded once the
#     worker wrote it, the metrics; nginx's request ids found in Sésame's log lines;
#   - each periodic command of the timers (deploy/systemd) once.
# Environment: PRODUCTION_CHECK_DATABASE (default sesame_production_check on
# postgres@127.0.0.1:5432), PRODUCTION_CHECK_REDIS (default redis://127.0.0.1:6379/13),
# PRODUCTION_CHECK_PORT (default 8790).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
started=$(date +%s)

db_name=${PRODUCTION_CHECK_DATABASE:-sesame_production_check}
port=${PRODUCTION_CHECK_PORT:-8790}
work=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT

secret() { "$PY" -c "import secrets, sys; print(secrets.$1)"; }
export DEBUG=0
export SECRET_KEY; SECRET_KEY=$(secret "token_urlsafe(50)")
export SESAME_CARD_MASTER_KEY; SESAME_CARD_MASTER_KEY=$(secret "token_hex(16)")
export SESAME_VAULT_MASTER_KEY; SESAME_VAULT_MASTER_KEY=$(secret "token_hex(32)")
export SESAME_METRICS_TOKEN; SESAME_METRICS_TOKEN=$(secret "token_urlsafe(32)")
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db_name"
export DATABASE_CONN_MAX_AGE=60
export REDIS_URL=${PRODUCTION_CHECK_REDIS:-redis://127.0.0.1:6379/13}
export ALLOWED_HOSTS=127.0.0.1,localhost
export SESAME_VAR_DIR="$work/var"
export SESAME_BIND="127.0.0.1:$port"
export SESAME_WEB_WORKERS=3
export SESAME_CARD_URL="https://127.0.0.1:$port/c/"
export LOG_LEVEL=INFO
# nginx listens on the next port; its Host header has no port, so this origin is named (on 443,
# the origin is the site's name and needs nothing).
https_port=$((port + 1))
site="https://127.0.0.1:$https_port"
export CSRF_TRUSTED_ORIGINS="$site"

echo "--- a database and a cache of this run's own"
psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)"
psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $db_name"
redis-cli -u "$REDIS_URL" flushdb >/dev/null

echo "--- manage.py check --deploy (DEBUG off, every warning fails)"
# But one: this run takes payments with the demo provider on purpose (payments.W001 says so).
"$PY" manage.py check --deploy --fail-level ERROR >"$work/check.log" 2>&1 || { cat "$work/check.log"; exit 1; }
cat "$work/check.log"
if grep -E '\([a-z_]+\.[A-Z][0-9]{3}\)' "$work/check.log" | grep -v '(payments.W001)'; then
  echo "check --deploy: warnings"; exit 1
fi

echo "--- migrate, translations, collectstatic"
"$PY" manage.py migrate --noinput -v 0
.venv/bin/pybabel compile -d locale -D django >/dev/null 2>&1
"$PY" manage.py collectstatic --noinput -v 0
test -f "$SESAME_VAR_DIR/static/staticfiles.json"

echo "--- the demo's accounts and cards"
DEBUG=1 "$PY" manage.py load_demo >"$work/demo.log"
staff=accueil@demo.sesame.fr
totp_secret=$(DEBUG=1 "$PY" manage.py demo_totp "$staff" --secret)
tap=$(DEBUG=1 "$PY" manage.py shell -v 0 -c "
import json
from card import simulator
from card.demo import demo_card, demo_reader_at, demo_reader_token
print(json.dumps({'credential': simulator.next_tap(demo_card().uid),
                  'token': demo_reader_token(demo_reader_at())}))" | tail -n 1)

echo "--- gunicorn ($SESAME_WEB_WORKERS workers) and the task worker"
export PROMETHEUS_MULTIPROC_DIR="$work/metrics"
"$PY" -m gunicorn -c deploy/gunicorn.conf.py >"$work/web.log" 2>&1 &
pids+=($!)
unset PROMETHEUS_MULTIPROC_DIR
"$PY" manage.py db_worker --no-reload --worker-id production-check >"$work/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 1
done

echo "--- nginx in front (deploy/nginx, a throw-away certificate for 127.0.0.1)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cp deploy/nginx/sesame-proxy.conf "$work/sesame-proxy.conf"
sed -e "s|server 127.0.0.1:8000|server 127.0.0.1:$port|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "s|listen 80;|listen 127.0.0.1:$((port + 2));|" -e "/listen \[::\]/d" \
    -e "s|/etc/letsencrypt/live/sesame.example.fr/fullchain.pem|$work/cert.pem|" \
    -e "s|/etc/letsencrypt/live/sesame.example.fr/privkey.pem|$work/key.pem|" \
    -e "s|/etc/nginx/snippets/sesame-proxy.conf|$work/sesame-proxy.conf|" \
    -e "s|/var/lib/sesame/static/|$SESAME_VAR_DIR/static/|" \
    -e "s|/var/log/nginx/|$work/|" -e "s|/var/www/letsencrypt|$work|" \
    deploy/nginx/sesame.conf >"$work/site.conf"
cat >"$work/nginx.conf" <<NGINX
user $(id -un);
pid $work/nginx.pid;
error_log $work/nginx.error.log;
events {}
http {
  include /etc/nginx/mime.types;
  include $work/site.conf;
}
NGINX
/usr/sbin/nginx -t -q -c "$work/nginx.conf" -p "$work"
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" -g "daemon off;" &
pids+=($!)
for _ in $(seq 1 20); do
  curl -fsS --cacert "$work/cert.pem" "$site/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
# Static files from nginx itself, cached for good; a body over SESAME_MAX_REQUEST_BYTES refused.
css=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['paths']['portal/sesame.css'])" \
  "$SESAME_VAR_DIR/static/staticfiles.json")
curl -fsSI --cacert "$work/cert.pem" "$site/static/$css" | grep -qi '^cache-control: public, immutable'
big=$(head -c 13000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --cacert "$work/cert.pem" \
  -X POST --data-binary @- "$site/api/v1/taps")
[ "$big" = 413 ] || { echo "nginx let a 13 MB body through ($big)"; exit 1; }
echo "nginx: static files cached for good, a 13 MB body refused (413)"

echo "--- the smoke test over HTTPS, through nginx"
if ! "$PY" deploy/smoke.py "$site" --cafile "$work/cert.pem" --staff "$staff" \
    --totp-secret "$totp_secret" --resident camille.martin@demo.sesame.fr \
    --password sesame-demo-2026 --tap "$tap" --metrics-token "$SESAME_METRICS_TOKEN"; then
  echo "--- web.log"; tail -n 40 "$work/web.log"
  echo "--- worker.log"; tail -n 40 "$work/worker.log"
  echo "--- nginx"; tail -n 20 "$work/nginx.error.log" "$work/sesame.access.log"
  exit 1
fi
# nginx's access log and Sésame's JSON lines carry the same request ids.
last_id=$(grep -v -E '/(healthz|readyz|metrics) ' "$work/sesame.access.log" \
  | sed -n 's/.* id=\([0-9a-f]*\)$/\1/p' | tail -n 1)
grep -q "\"request_id\": \"$last_id\"" "$work/web.log" || { echo "request id $last_id lost"; exit 1; }
if grep -q '"level": "ERROR"' "$work/web.log" "$work/worker.log"; then
  grep -h '"level": "ERROR"' "$work/web.log" "$work/worker.log" | head -n 20
  echo "errors were logged"; exit 1
fi

echo "--- the periodic commands of the timers, once each (backup has its own tests and key)"
for command in $(sed -n 's/^Unit=sesame-manage@\(.*\)\.service$/\1/p' deploy/systemd/*.timer); do
  [ "$command" = backup ] && continue
  "$PY" manage.py "$command" >"$work/$command.log" 2>&1 || { cat "$work/$command.log"; exit 1; }
  echo "$command: ok"
done

stop
trap - EXIT
psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)"
rm -rf "$work"
echo "production-like stack: passed in $(( $(date +%s) - started )) s"
