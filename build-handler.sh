#!/usr/bin/env bash
# Type-checks the project and bundles the Lambda function into dist/index.mjs (+ source map), the CodeUri and
# Handler that template.yml points at.
# Usage: ./build-handler.sh
set -euo pipefail

if [[ $# -gt 0 ]]; then
  echo "usage: $0" >&2
  exit 2
fi

cd "$(dirname "$0")"
if [[ ! -d node_modules ]]; then
  echo "build-handler.sh: node_modules is missing; run 'npm ci' first" >&2
  exit 1
fi

# npm puts the project's Node 24 (devDependency "node") first on PATH; esbuild and tsc run on it.
echo "build-handler.sh: type-checking" >&2
npm exec --offline -- tsc -p tsconfig.json
echo "build-handler.sh: bundling src/handler.ts into dist/index.mjs" >&2
rm -rf dist
mkdir -p dist
npm exec --offline -- node esbuild.config.mjs src/handler.ts dist/index.mjs dist/meta.json
rm -f dist/meta.json
echo "build-handler.sh: built dist/index.mjs ($(wc -c < dist/index.mjs) bytes)" >&2
