#!/usr/bin/env bash
# Runs the development server and a Celery worker with beat together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

trap 'trap - INT TERM EXIT; kill 0 2>/dev/null; wait' INT TERM EXIT

"$bin/celery" -A wecity worker -B --loglevel INFO --concurrency 1 \
  --schedule "${CELERY_BEAT_SCHEDULE_FILE:-.broker/beat-schedule}" &
"$bin/python" manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}" &

echo "The portal is at http://${HOST:-127.0.0.1}:${PORT:-8000}/ (Ctrl-C stops it)."
wait -n
