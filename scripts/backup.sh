#!/usr/bin/env bash
# Back up the portal into one dated archive: the database and the uploaded files.
#
#   scripts/backup.sh            (or: make backup)
#
# Reads the same settings as the portal (the environment, then .env): the database of
# DATABASE_URL (pg_dump for PostgreSQL, SQLite's online backup otherwise), MEDIA_ROOT and
# PRIVATE_MEDIA_ROOT. Writes backups/wecity-<UTC date and time>.tar.gz (BACKUP_DIR to put it
# elsewhere) holding database.dump or database.sqlite3, media/, private/, a manifest and the
# SHA-256 of every file, which scripts/restore.sh checks. The database is dumped first and
# the files copied after it, so every file a saved row names is in the archive (files are
# never overwritten; one deleted during the backup can be missing). With members' files in
# a bucket (PRIVATE_STORAGE_S3_BUCKET), back the bucket up with its provider's tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

# Where the portal keeps its data: ENGINE, DB_*, MEDIA_ROOT, PRIVATE_ROOT, PRIVATE_IN_BUCKET.
eval "$("$PYTHON" scripts/storage_settings.py)"

out_dir=${BACKUP_DIR:-backups}
mkdir -p "$out_dir"
stamp=$(date -u +%Y%m%d-%H%M%S)
archive="$out_dir/wecity-$stamp.tar.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"; rm -f "$archive.partial"' EXIT

case "$ENGINE" in
  postgresql)
    database=database.dump
    PGPASSWORD="$DB_PASSWORD" pg_dump --format=custom --no-owner --no-privileges \
      ${DB_HOST:+--host="$DB_HOST"} ${DB_PORT:+--port="$DB_PORT"} ${DB_USER:+--username="$DB_USER"} \
      --file="$work/$database" "$DB_NAME"
    ;;
  sqlite3)
    database=database.sqlite3
    # SQLite's online backup: a consistent copy even while the portal writes.
    "$PYTHON" -c 'import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
source.close(); target.close()' "$DB_NAME" "$work/$database"
    ;;
  *)
    echo "backup: the database engine $ENGINE is not supported" >&2
    exit 1
    ;;
esac

# The folders go in as media/ and private/ (links that tar follows, so nothing is copied twice).
mkdir -p "$MEDIA_ROOT"
ln -s "$(cd "$MEDIA_ROOT" && pwd)" "$work/media"
if [ -n "$PRIVATE_IN_BUCKET" ]; then
  echo "backup: members' files are in a bucket (PRIVATE_STORAGE_S3_BUCKET): back it up with its provider's tools" >&2
  mkdir "$work/private"
else
  mkdir -p "$PRIVATE_ROOT"
  ln -s "$(cd "$PRIVATE_ROOT" && pwd)" "$work/private"
fi

(cd "$work" && find -L . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0r sha256sum) \
  > "$work/SHA256SUMS"
cat > "$work/manifest.json" <<JSON
{"format": 1, "created_at": "$stamp", "engine": "$ENGINE", "database": "$database",
 "media_files": $(find -L "$work/media" -type f | wc -l),
 "private_files": $(find -L "$work/private" -type f | wc -l),
 "private_in_bucket": $([ -n "$PRIVATE_IN_BUCKET" ] && echo true || echo false)}
JSON

tar --create --gzip --dereference --file="$archive.partial" -C "$work" .
mv "$archive.partial" "$archive"
echo "$archive"
