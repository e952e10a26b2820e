#!/usr/bin/env bash
# Builds the dashboard's vendor assets (Makefile-independent; `make web` runs it): ECharts, pinned
# by package-lock.json, installed with `npm ci` and copied with its licence into ../static/vendor/,
# which the gateway serves. Nothing is fetched at run time. With the packages in npm's cache,
# --prefer-offline installs without the network.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
  echo "build.sh: npm is required to build the dashboard's chart library (apt-get install npm)" >&2
  exit 1
fi
if [ ! -f node_modules/echarts/dist/echarts.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
fi
mkdir -p ../static/vendor
cp node_modules/echarts/dist/echarts.min.js ../static/vendor/echarts.min.js
cp node_modules/echarts/LICENSE ../static/vendor/echarts.LICENSE
echo "build.sh: ECharts $(node -p "require('./node_modules/echarts/package.json').version") -> services/gateway/static/vendor/"
