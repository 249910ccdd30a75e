#!/usr/bin/env bash
# Sets up everything the tests need and runs the whole suite; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
export IVR_NURSE_NUMBER="${IVR_NURSE_NUMBER:-+441632960001}"
export IVR_NURSE_HOURS="${IVR_NURSE_HOURS:-Mon-Fri 09:00-17:00}"
echo "== ruff"
.venv/bin/ruff check ivr tests scripts
echo "== mypy"
.venv/bin/mypy
echo "== ivr check"
.venv/bin/ivr check
echo "== postgresql"
# A throwaway PostgreSQL server on 127.0.0.1 for the store and nurse-line tests (stopped on exit);
# when PostgreSQL cannot run here, postgres.sh says so and those tests are skipped, visibly.
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop' EXIT
echo "== pytest"
.venv/bin/python -m pytest "$@"
echo "== ivr check --calls (every key path through the real app)"
.venv/bin/ivr check --calls
