#!/usr/bin/env bash
# Sets up and starts the line on 127.0.0.1:5000, with a local development token
# so the simulator (`ivr call`) can ring it without a Twilio account.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A demonstration nurse number (Ofcom's drama range) unless one is configured.
export IVR_NURSE_NUMBER="${IVR_NURSE_NUMBER:-+441632960001}"
export IVR_NURSE_HOURS="${IVR_NURSE_HOURS:-Mon-Fri 09:00-17:00}"
.venv/bin/ivr check
echo
echo "Try the line from another terminal:  .venv/bin/ivr call --url http://127.0.0.1:${IVR_PORT:-5000}/voice"
echo "Or open http://127.0.0.1:${IVR_PORT:-5000}/phone in a browser."
echo
exec .venv/bin/ivr serve --host "${IVR_HOST:-127.0.0.1}" --port "${IVR_PORT:-5000}"
