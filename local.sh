#!/usr/bin/env bash
# Builds the function and runs it once on this machine with sam local invoke (needs Docker).
# Runs on macOS's bash 3.2: every possibly empty array is guarded.
#
# Usage: ./local.sh --help
set -euo pipefail

readonly FUNCTION=DeployerFunction

usage() {
  cat << EOF_USAGE
usage: $0 [event-file]

Builds the function (./build-handler.sh) and runs it once in Docker with
sam local invoke $FUNCTION --template-file template.yml --event <event-file> --env-vars <env-vars file>.

Arguments:
  event-file    the event to invoke with, relative to the current directory (default: the project's
                events/default.json; samples: events/*.json)
  -h, --help    print this help and exit

Environment:
  LAMBDA_EKS_ENV_VARS   the env-vars file (default: the project's events/env.json; copy events/env.example.json and set
                        CLUSTER_NAME, and optionally CLUSTER_ENDPOINT and CLUSTER_CA_DATA)
  AWS_REGION            passed to sam local invoke as --region when set
  The sam CLI reads its own settings (AWS_PROFILE, credentials, ...).

Locally the function runs as YOUR AWS identity: that identity needs its own access to the cluster (an access entry or
aws-auth mapping, and the RBAC grants of permissions.yml).
EOF_USAGE
}
usage_error() {
  echo "local.sh: $*" >&2
  echo "usage: $0 [event-file] (--help for more)" >&2
  exit 2
}
die() {
  echo "local.sh: error: $*" >&2
  exit 1
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) usage_error "unknown option $1" ;;
esac
(($# <= 1)) || usage_error "at most one event file"
# Paths the user gives are relative to where they run the script; the script then works in the project directory.
caller=$PWD
cd "$(dirname "$0")"
from_caller() {
  if [[ $1 == /* || $caller == "$PWD" ]]; then echo "$1"; else echo "$caller/$1"; fi
}
event=events/default.json
[[ -z ${1:-} ]] || event=$(from_caller "$1")
if [[ ! -f $event ]]; then
  samples=''
  for sample in events/*.json; do
    [[ $sample == events/env.* ]] || samples=${samples:+$samples, }$sample
  done
  die "no event file $event (samples: $samples)"
fi
env_vars=events/env.json
[[ -z ${LAMBDA_EKS_ENV_VARS:-} ]] || env_vars=$(from_caller "$LAMBDA_EKS_ENV_VARS")
if [[ ! -f $env_vars ]]; then
  [[ -z ${LAMBDA_EKS_ENV_VARS:-} ]] || die "no env-vars file $env_vars"
  die "no $env_vars: copy events/env.example.json to events/env.json and set CLUSTER_NAME (and optionally CLUSTER_ENDPOINT/CLUSTER_CA_DATA)"
fi
missing=''
command -v sam > /dev/null \
  || missing="$missing"$'\n'"  sam (the AWS SAM CLI): https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
command -v docker > /dev/null \
  || missing="$missing"$'\n'"  docker (sam local invoke runs the function in a container): https://docs.docker.com/get-docker/"
[[ -z $missing ]] || die "missing tools; install them and run again:$missing"

echo "==> Building the function" >&2
./build-handler.sh

echo "==> Invoking $FUNCTION locally with $event" >&2
echo "    Note: locally the function runs as your own AWS identity, not the deployed role; that identity needs its own" >&2
echo "    access to the cluster (access entry or aws-auth mapping, and RBAC: kubectl apply -f permissions.yml -l ...)." >&2
region_args=()
[[ -z ${AWS_REGION:-} ]] || region_args=(--region "$AWS_REGION")
sam local invoke "$FUNCTION" --template-file template.yml --event "$event" --env-vars "$env_vars" \
  ${region_args[@]+"${region_args[@]}"}
