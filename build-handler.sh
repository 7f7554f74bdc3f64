#!/usr/bin/env bash
# Type-checks the project and bundles the Lambda function into dist/ (esbuild.config.mjs): index.mjs (our code, the
# handler of template.yml's CodeUri and Handler, with its source map), vendor.mjs (the libraries, without a map) and
# describe-cluster.mjs (the AWS SDK's DescribeCluster, loaded only when the function has no CLUSTER_ENDPOINT).
# Usage: ./build-handler.sh [--help]
set -euo pipefail

case "${1:-}" in
  '') ;;
  -h | --help)
    echo "usage: $0"
    echo
    echo "Type-checks the project (tsc) and bundles the Lambda function with esbuild into dist/: index.mjs (the handler)"
    echo "and the chunk-*.mjs it imports, each with its source map, vendor.mjs (the libraries); and, loaded only on first"
    echo "use, the set engine (actions-*.mjs, manifest-resource-*.mjs and their chunk), manifest-yaml.mjs (the YAML"
    echo "reader) and describe-cluster.mjs (DescribeCluster, when the function has no CLUSTER_ENDPOINT). Needs"
    echo "node_modules (npm ci). Takes no options but --help."
    exit 0
    ;;
esac
if [[ $# -gt 0 ]]; then
  echo "build-handler.sh: unexpected argument $1" >&2
  echo "usage: $0 [--help]" >&2
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
echo "build-handler.sh: bundling into dist/" >&2
rm -rf dist
npm exec --offline -- node esbuild.config.mjs dist
for file in dist/*.mjs; do
  echo "build-handler.sh: built $file ($(wc -c < "$file") bytes)" >&2
done
