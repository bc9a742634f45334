#!/usr/bin/env bash
# API load run: one server process, a synthetic catalog of N tools, wrk against /api/compare and
# /api/search. Needs wrk (Debian: apt-get install -y wrk).
#   bash scripts/load_test.sh [TOOLS=10000] [SECONDS=20] [CONNECTIONS=16]
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${1:-10000}
DURATION=${2:-20}
CONNECTIONS=${3:-16}
PORT=${PORT:-8311}
HOME_DIR=${CAPMATCH_LOAD_HOME:-/tmp/capmatch-load-$TOOLS}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

if [ ! -f "$HOME_DIR/catalog.sqlite3" ]; then
  echo "building a synthetic catalog of $TOOLS tools in $HOME_DIR" >&2
  CAPMATCH_HOME="$HOME_DIR" .venv/bin/python -c "
from capmatch.core import CapMatch
from capmatch.settings import get_settings
from evaluation.synthetic import fill
fill(CapMatch(get_settings()), $TOOLS)"
fi

CAPMATCH_HOME="$HOME_DIR" .venv/bin/capmatch serve --port "$PORT" >/tmp/capmatch-load-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "localhost:$PORT/api/health" >/dev/null && break; sleep 0.5; done
curl -sf "localhost:$PORT/api/search?q=warm" >/dev/null
curl -sf "localhost:$PORT/api/compare/synthetic-1/synthetic-2" >/dev/null

echo "== GET /api/compare/synthetic-1/synthetic-2 ($TOOLS tools, $CONNECTIONS connections, ${DURATION}s)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/api/compare/synthetic-1/synthetic-2"
echo "== GET /api/search?q=retry+failed+background+jobs"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/api/search?q=retry+failed+background+jobs&k=10"
