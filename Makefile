# The portal's commands. `make run` and `make test` work on a fresh machine with only
# Python 3.11: they create .venv and install the tested versions (requirements.lock).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint fmt check messages install clean bench backup restore audit

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve the portal with its demo data, a Celery worker and beat (Ctrl-C stops all).
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	HOST=$(HOST) PORT=$(PORT) bash scripts/run-dev.sh

## Run the whole test suite (SQLite, or DATABASE_URL / CELERY_BROKER_URL when set).
test: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

## The pages under wrk on a large programme beside a static baseline, memory over time and
## the reminder sweep (its own PostgreSQL and Redis; about 20 minutes): docs/benchmarks.md.
## A quick try: make bench BENCH_ARGS="--scale 0.05 --seconds 3 --soak-seconds 20"
bench: $(STAMP)
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

## Back up the database and the uploaded files into backups/wecity-<date>.tar.gz.
backup: $(STAMP)
	bash scripts/backup.sh

## Restore a backup into an empty database and empty folders:
## make restore BACKUP=backups/wecity-<date>.tar.gz (FORCE=1 empties them first).
restore: $(STAMP)
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/wecity-<date>.tar.gz"; exit 2; }
	bash scripts/restore.sh "$(BACKUP)" $(if $(FORCE),--force)

## Known vulnerabilities in the pinned dependencies (pip-audit against requirements.lock).
audit: $(STAMP)
	$(BIN)/python scripts/audit_dependencies.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the message catalogues after changing interface strings (needs GNU gettext).
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --locale zh_Hans --locale en --no-obsolete --ignore '.venv/*' --ignore 'node_modules/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) .broker staticfiles
