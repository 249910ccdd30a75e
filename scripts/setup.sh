#!/usr/bin/env bash
# Installs what the line needs on a fresh Debian machine; safe to run again.
# Usage: scripts/setup.sh [--dev]   (--dev adds the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
ldconfig -p 2>/dev/null | grep -q libsndfile.so || need_apt+=(libsndfile1)
if [ "${1:-}" = "--dev" ]; then
    # Tests and benchmarks: sox to inspect audio, Chromium for the staff pages,
    # PostgreSQL for the multi-server store, wrk for the webhook benchmark.
    command -v sox >/dev/null 2>&1 || need_apt+=(sox)
    command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
    command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

# PostgreSQL is optional: without it the PostgreSQL part of the tests is skipped, visibly.
if [ "${1:-}" = "--dev" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    [ ${#need_apt[@]} -gt 0 ] || $SUDO apt-get update -q || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends postgresql \
        || echo "setup: could not install postgresql; the PostgreSQL tests will be skipped" >&2
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PY" -m venv .venv
fi
# Reinstall only when the dependency list changed since the last install; a dev install
# also satisfies a plain one, so start.sh after test.sh installs nothing.
hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "${1:-}" = "--dev" ]; then stamps=(.venv/.ivr-installed-dev); extra="[dev]"
else stamps=(.venv/.ivr-installed .venv/.ivr-installed-dev); extra=""; fi
current=no
for stamp in "${stamps[@]}"; do
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && current=yes
done
if [ "$current" = no ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extra}"
    echo "$hash" > "${stamps[0]}"
fi
