#!/usr/bin/env bash
# Builds the function and runs it once on this machine with sam local invoke (needs Docker).
#
# Usage: ./local.sh [event-file]     (default: events/default.json)
#
# The environment comes from events/env.json (copy events/env.example.json and fill in CLUSTER_NAME), or from the file
# named by LAMBDA_EKS_ENV_VARS. Locally the function runs as YOUR AWS identity: that identity needs its own access to
# the cluster (an access entry or aws-auth mapping, and RBAC to create deployments).
set -euo pipefail

readonly FUNCTION=DeployerFunction

usage() {
  echo "usage: $0 [event-file]" >&2
  exit 2
}
die() {
  echo "local.sh: error: $*" >&2
  exit 1
}

(($# <= 1)) || usage
[[ ${1:-} != -* ]] || usage
cd "$(dirname "$0")"
event=${1:-events/default.json}
[[ -f $event ]] || die "no event file $event (samples: $(echo events/*.json | tr ' ' ','))"
env_vars=${LAMBDA_EKS_ENV_VARS:-events/env.json}
if [[ ! -f $env_vars ]]; then
  [[ -z ${LAMBDA_EKS_ENV_VARS:-} ]] || die "no env-vars file $env_vars"
  die "no $env_vars: copy events/env.example.json to events/env.json and set CLUSTER_NAME (and optionally CLUSTER_ENDPOINT/CLUSTER_CA_DATA)"
fi
command -v sam > /dev/null || die "the AWS SAM CLI (sam) is not installed"
command -v docker > /dev/null || die "sam local invoke runs the function in Docker, and docker is not installed"

echo "==> Building the function" >&2
./build-handler.sh

echo "==> Invoking $FUNCTION locally with $event" >&2
echo "    Note: locally the function runs as your own AWS identity, not the deployed role; that identity needs its own" >&2
echo "    access to the cluster (access entry or aws-auth mapping, and RBAC: kubectl apply -f permissions.yml)." >&2
region_args=()
[[ -z ${AWS_REGION:-} ]] || region_args=(--region "$AWS_REGION")
sam local invoke "$FUNCTION" --template-file template.yml --event "$event" --env-vars "$env_vars" "${region_args[@]}"
