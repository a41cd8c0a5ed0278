#!/usr/bin/env bash
# Restore an archive of scripts/backup.sh into the portal's database and file folders.
#
#   scripts/restore.sh backups/wecity-20261127-093000.tar.gz [--force]
#   make restore BACKUP=backups/wecity-20261127-093000.tar.gz [FORCE=1]
#
# Restores into what the settings name (the environment, then .env): DATABASE_URL,
# MEDIA_ROOT and PRIVATE_MEDIA_ROOT. They must be empty (a PostgreSQL database with no
# tables, or missing: it is created; no SQLite file; empty folders): a restore never mixes
# into live data. --force empties them first. Stop the portal and its workers before a
# restore, and check the archive's SHA-256 sums before anything is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

archive=${1:?usage: scripts/restore.sh ARCHIVE [--force]}
force=${2:-}
[ -f "$archive" ] || { echo "restore: no archive at $archive" >&2; exit 1; }

eval "$("$PYTHON" scripts/storage_settings.py)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar --extract --gzip --file="$archive" -C "$work"
(cd "$work" && sha256sum --check --quiet SHA256SUMS) || {
  echo "restore: the archive's files do not match their SHA-256 sums: not restoring" >&2
  exit 1
}
archived_engine=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["engine"])' \
  "$work/manifest.json")
if [ "$archived_engine" != "$ENGINE" ]; then
  echo "restore: the archive holds a $archived_engine database, the settings name $ENGINE" >&2
  exit 1
fi

export PGPASSWORD="$DB_PASSWORD"
pg=(${DB_HOST:+--host="$DB_HOST"} ${DB_PORT:+--port="$DB_PORT"} ${DB_USER:+--username="$DB_USER"})
refuse() {
  echo "restore: $1 is not empty; restore into an empty one, or pass --force to empty it" >&2
  exit 1
}
empty_folder() { [ ! -d "$1" ] || [ -z "$(ls -A "$1")" ]; }

# Check everything before changing anything.
case "$ENGINE" in
  postgresql)
    exists=$(psql "${pg[@]}" --dbname=postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
    tables=0
    if [ "$exists" = 1 ]; then
      tables=$(psql "${pg[@]}" --dbname="$DB_NAME" -tAc \
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    fi
    [ "$tables" = 0 ] || [ "$force" = --force ] || refuse "the database $DB_NAME"
    ;;
  sqlite3)
    [ ! -s "$DB_NAME" ] || [ "$force" = --force ] || refuse "the database file $DB_NAME"
    ;;
esac
empty_folder "$MEDIA_ROOT" || [ "$force" = --force ] || refuse "MEDIA_ROOT ($MEDIA_ROOT)"
if [ -z "$PRIVATE_IN_BUCKET" ]; then
  empty_folder "$PRIVATE_ROOT" || [ "$force" = --force ] || refuse "PRIVATE_MEDIA_ROOT ($PRIVATE_ROOT)"
fi

case "$ENGINE" in
  postgresql)
    if [ "$exists" != 1 ]; then
      createdb "${pg[@]}" "$DB_NAME"
    elif [ "$tables" != 0 ]; then
      psql "${pg[@]}" --dbname="$DB_NAME" -q -v ON_ERROR_STOP=1 \
        -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public"
    fi
    pg_restore "${pg[@]}" --dbname="$DB_NAME" --no-owner --no-privileges --exit-on-error \
      "$work/database.dump"
    ;;
  sqlite3)
    mkdir -p "$(dirname "$DB_NAME")"
    cp "$work/database.sqlite3" "$DB_NAME.restoring"
    mv "$DB_NAME.restoring" "$DB_NAME"
    ;;
esac

restore_folder() {
  mkdir -p "$2"
  find "$2" -mindepth 1 -delete
  cp -a "$1/." "$2/"
}
restore_folder "$work/media" "$MEDIA_ROOT"
if [ -z "$PRIVATE_IN_BUCKET" ]; then
  restore_folder "$work/private" "$PRIVATE_ROOT"
else
  echo "restore: members' files are in a bucket (PRIVATE_STORAGE_S3_BUCKET): restore it with its provider's tools" >&2
fi
echo "restored $archive"
