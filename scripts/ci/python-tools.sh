#!/usr/bin/env bash
# Prepares what the Python-side tests need, cached between runs, and prints the environment to use them:
#   - a venv with torch (CPU), transformers, gguf and jinja2 from this machine's pip configuration
#     (the real Python sidecar: test/sidecar/python-real-render.test.ts, SCLAB_PYTHON)
#   - the real tokenizer folders of scripts/real-tokenizers.py (Mistral v0.2, Llama-3.1, Qwen2.5: SCLAB_REAL_TOKENIZERS)
# Usage: eval "$(bash scripts/ci/python-tools.sh)". On any failure it prints nothing to stdout (the tests then skip and
# `npm test` lists them as skipped) and says why on stderr.
set -uo pipefail
cd "$(dirname "$0")/../.."
CACHE="${SCLAB_TOOLS_CACHE:-$HOME/.cache/sclab-tools}"
VENV="$CACHE/pyvenv"
TOK="${SCLAB_REAL_TOKENIZERS:-$HOME/.cache/sclab/real-tokenizers}"
fail() { echo "python-tools: $*; the Python sidecar and real-tokenizer tests will be skipped (and listed)" >&2; exit 0; }

if ! "$VENV/bin/python" -c 'import torch, transformers, gguf, jinja2' 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" || fail "cannot create a venv"
  # no public index is reachable here: keep pip on the configured local indexes only, never waiting on PyPI
  "$VENV/bin/pip" install -q --disable-pip-version-check --retries 0 --timeout 5 torch transformers gguf jinja2 >&2 || fail "pip install torch transformers gguf jinja2 failed"
fi
for fam in mistral-7b-instruct-v0.2 llama-3.1-8b-instruct qwen2.5-7b-instruct; do
  [ -f "$TOK/$fam/tokenizer.json" ] || missing=1
done
if [ "${missing:-0}" = 1 ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack -q node-llama-cpp@3.21.1 >/dev/null && tar xzf node-llama-cpp-3.21.1.tgz package/llama/gitRelease.bundle \
    && git clone -q package/llama/gitRelease.bundle llama.cpp) >&2 || fail "cannot unpack llama.cpp's vocabularies from node-llama-cpp@3.21.1"
  rm -rf "$TOK" && mkdir -p "$TOK"
  "$VENV/bin/python" scripts/real-tokenizers.py "$work/llama.cpp" "$TOK" >&2 || fail "scripts/real-tokenizers.py failed"
fi
echo "export SCLAB_PYTHON='$VENV/bin/python' SCLAB_REAL_TOKENIZERS='$TOK'"
