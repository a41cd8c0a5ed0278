#!/usr/bin/env bash
# Runs the development server and a Celery worker with beat together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

# Each job in its own process group, so that stopping one also stops its children
# (runserver's autoreloader, Celery's pool and beat).
set -m
"$bin/celery" -A wecity worker -B --loglevel INFO --concurrency 1 \
  --schedule "${CELERY_BEAT_SCHEDULE_FILE:-.broker/beat-schedule}" &
worker=$!
"$bin/python" manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}" &
web=$!

stop() {
  trap - INT TERM EXIT
  kill -TERM -- "-$web" 2>/dev/null || true  # runserver and its autoreloader
  kill -TERM "$worker" 2>/dev/null || true  # Celery stops its pool and beat itself
  wait || true
}
trap stop INT TERM EXIT

echo "The portal is at http://${HOST:-127.0.0.1}:${PORT:-8000}/ (Ctrl-C stops it)."
wait -n
