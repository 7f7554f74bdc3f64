#!/usr/bin/env bash
# Builds the function and runs it once on this machine with sam local invoke (needs Docker).
# Runs on macOS's bash 3.2: every possibly empty array is guarded.
#
# Usage: ./local.sh --help
set -euo pipefail

readonly FUNCTION=DeployerFunction
readonly DOCKER_WAIT_SECONDS=${LAMBDA_EKS_DOCKER_WAIT_SECONDS:-10}

usage() {
  cat << EOF_USAGE
usage: $0 [event-file]

Checks that Docker's daemon answers (docker info), builds the function (./build-handler.sh) and runs it once in
Docker with sam local invoke $FUNCTION --template-file template.yml --event <event-file> --env-vars <env-vars file>.

Arguments:
  event-file    the event to invoke with, relative to the current directory (default: the project's
                events/default.json; samples: events/*.json)
  -h, --help    print this help and exit

Environment:
  LAMBDA_EKS_ENV_VARS   the env-vars file (default: the project's events/env.json; copy events/env.example.json and set
                        CLUSTER_NAME, and optionally CLUSTER_ENDPOINT and CLUSTER_CA_DATA)
  AWS_REGION            passed to sam local invoke as --region when set
  LAMBDA_EKS_DOCKER_WAIT_SECONDS
                        how long to wait for docker info to answer (default: 10)
  DOCKER_HOST           the Docker daemon that docker and sam use, when it is not the default one
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
# A file's text on one line, without the blank lines around it.
one_line() {
  local text
  text=$(tr '\n' ' ' < "$1")
  text=${text#"${text%%[![:space:]]*}"}
  echo "${text%"${text##*[![:space:]]}"}"
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) usage_error "unknown option $1" ;;
esac
(($# <= 1)) || usage_error "at most one event file"
[[ $DOCKER_WAIT_SECONDS =~ ^[1-9][0-9]*$ ]] \
  || usage_error "LAMBDA_EKS_DOCKER_WAIT_SECONDS='$DOCKER_WAIT_SECONDS' is not a whole number of seconds"
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

# sam local invoke needs Docker's daemon, not only its CLI. docker info asks it, but can hang (Docker Desktop
# starting, a DOCKER_HOST that does not answer), and macOS has no timeout command: the script bounds the wait itself.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
docker_fix="start Docker Desktop (macOS, Windows) or the docker service (Linux: sudo systemctl start docker)"
if [[ -n ${DOCKER_HOST:-} ]]; then
  docker_fix="$docker_fix; DOCKER_HOST is $DOCKER_HOST: check that a Docker daemon answers there"
else
  docker_fix="$docker_fix; if your daemon is not at the default socket (Colima, Rancher Desktop, Podman), set DOCKER_HOST to it"
fi
docker_fix="$docker_fix. Then run local.sh again"
docker info > /dev/null 2> "$tmp/docker.err" &
docker_pid=$!
polls_left=$((DOCKER_WAIT_SECONDS * 5))
while kill -0 "$docker_pid" 2> /dev/null; do
  if ((polls_left == 0)); then
    kill "$docker_pid" 2> /dev/null || true
    wait "$docker_pid" 2> /dev/null || true
    die "Docker did not answer docker info within $DOCKER_WAIT_SECONDS s (LAMBDA_EKS_DOCKER_WAIT_SECONDS), and" \
      "sam local invoke runs the function in a container: $docker_fix"
  fi
  polls_left=$((polls_left - 1))
  sleep 0.2
done
if ! wait "$docker_pid"; then
  if grep -q 'permission denied' "$tmp/docker.err"; then
    die "you may not use Docker's daemon ($(one_line "$tmp/docker.err")): add your user to the docker group" \
      "(sudo usermod -aG docker \"\$USER\", then log in again), and run local.sh again"
  fi
  die "Docker does not answer ($(one_line "$tmp/docker.err")), and sam local invoke runs the function in a" \
    "container: $docker_fix"
fi

echo "==> Building the function" >&2
./build-handler.sh

echo "==> Invoking $FUNCTION locally with $event" >&2
echo "    Note: locally the function runs as your own AWS identity, not the deployed role; that identity needs its own" >&2
echo "    access to the cluster (access entry or aws-auth mapping, and RBAC: kubectl apply -f permissions.yml -l ...)." >&2
region_args=()
[[ -z ${AWS_REGION:-} ]] || region_args=(--region "$AWS_REGION")
sam local invoke "$FUNCTION" --template-file template.yml --event "$event" --env-vars "$env_vars" \
  ${region_args[@]+"${region_args[@]}"}
