#!/usr/bin/env bash
# `npm run test:e2e`: install the offline tools when missing (idempotent), then the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/e2e/install.sh
exec node test/e2e/run.mjs "$@"
