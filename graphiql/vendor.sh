#!/usr/bin/env bash
# Re-vendor GraphiQL's browser files into gateway/static/graphiql/ (committed):
# install exactly what package-lock.json pins, then copy the builds and licenses.
# To upgrade: edit the versions in package.json, `npm install --package-lock-only`
# here, run this script, check GraphiQL in a browser and with
# tests/clients/test_graphiql_browser.py, commit package*.json and the folder.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node vendor.mjs
