#!/usr/bin/env bash
# Builds the local Kubernetes control plane of the tests, the demo and `npm run cluster` from the Go modules pinned in
# control-plane/kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd) and
# control-plane/kwok (kwok), into a cache outside the repository keyed by those pins, the Go version and the
# platform. Prints the folder of the binaries on stdout; builds only when that folder is missing.
# Usage: control-plane/build.sh [--print-key] [--help]
set -euo pipefail

usage() {
  cat << EOF
usage: control-plane/build.sh [--print-key] [--help]

Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok with 'go build' from the
modules pinned in control-plane/*/go.mod, unless they are in the cache already, and prints the folder that holds them.
A cold build takes 20 to 40 minutes on 2 cores and about 4 GB of Go build cache; later runs take a second.

Options:
  --print-key   print the cache key (a hash of the pins, the Go version and the platform) and exit
  -h, --help    print this help and exit

Environment:
  KUBEBUILDER_ASSETS   a folder of prebuilt binaries (etcd, kube-apiserver, kube-controller-manager,
                       kube-scheduler, kubectl, kwok): used as it is, nothing is built
  LAMBDA_EKS_CACHE     the cache folder (default: \$XDG_CACHE_HOME/lambda-eks, else ~/.cache/lambda-eks)
  GOPROXY, GOFLAGS, ... Go's own settings (the module proxy must be reachable for a cold build)

Exit status: 0 the binaries are there; 1 a build or check failed (the message says why); 2 bad usage.
EOF
}

print_key=false
while (($# > 0)); do
  case "$1" in
    --print-key) print_key=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "control-plane/build.sh: unknown option $1" >&2
      echo "usage: control-plane/build.sh [--print-key] [--help]" >&2
      exit 2
      ;;
  esac
  shift
done

BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
here=$(cd "$(dirname "$0")" && pwd)

# Prints the binaries missing from a folder, and fails if any is.
check_folder() {
  local dir=$1 absent=()
  for binary in "${BINARIES[@]}"; do
    [[ -x "$dir/$binary" ]] || absent+=("$binary")
  done
  if ((${#absent[@]} > 0)); then
    echo "${absent[*]}"
    return 1
  fi
}

sha256() {
  if command -v sha256sum > /dev/null; then sha256sum; else shasum -a 256; fi
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if ! missing=$(check_folder "$KUBEBUILDER_ASSETS"); then
    echo "control-plane/build.sh: KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks $missing; unset it to build them" >&2
    exit 1
  fi
  echo "control-plane/build.sh: using the prebuilt binaries of KUBEBUILDER_ASSETS" >&2
  cd "$KUBEBUILDER_ASSETS" && pwd
  exit 0
fi

if ! command -v go > /dev/null; then
  echo "control-plane/build.sh: 'go' is not on PATH. The control plane is built from Go modules: install Go 1.26 or" >&2
  echo "later (https://go.dev/dl/), or point KUBEBUILDER_ASSETS at a folder of prebuilt binaries." >&2
  exit 1
fi
# Kubernetes 1.36 needs Go 1.26; GOTOOLCHAIN=local keeps go from fetching another toolchain.
export GOTOOLCHAIN=local CGO_ENABLED=0
go_version=$(go env GOVERSION)
if [[ ! "$go_version" =~ ^go1\.(2[6-9]|[3-9][0-9])([.]|$) ]]; then
  echo "control-plane/build.sh: Kubernetes 1.36 needs Go 1.26 or later; this go is $go_version" >&2
  exit 1
fi

module_version() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }

# The key: every pin, the compiler, the platform and this script's build flags.
key=$(
  {
    cat "$here/kubernetes/go.mod" "$here/kubernetes/go.sum" "$here/kwok/go.mod" "$here/kwok/go.sum"
    echo "$go_version $(go env GOOS) $(go env GOARCH)"
    sed -n '/^# BUILD FLAGS$/,/^# END BUILD FLAGS$/p' "$0"
  } | sha256 | cut -c1-16
)
if $print_key; then
  echo "$key"
  exit 0
fi

cache_root=${LAMBDA_EKS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-eks}
target="$cache_root/control-plane/$key"
if check_folder "$target" > /dev/null; then
  echo "$target"
  exit 0
fi

kubernetes_version=$(module_version kubernetes k8s.io/kubernetes)
etcd_version=$(module_version kubernetes go.etcd.io/etcd/server/v3)
kwok_version=$(module_version kwok sigs.k8s.io/kwok)
minor=${kubernetes_version#v1.}
minor=${minor%%.*}

mkdir -p "$cache_root/control-plane"
work=$(mktemp -d "$cache_root/control-plane/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "control-plane/build.sh: building Kubernetes $kubernetes_version, etcd $etcd_version and kwok $kwok_version into" \
  "$target. A cold build takes 20 to 40 minutes on 2 cores; it happens once per version." >&2

started=$SECONDS
step() { echo "control-plane/build.sh: [$((SECONDS - started)) s] $*" >&2; }

step "1/3 downloading the Go modules"
(cd "$here/kubernetes" && go mod download) >&2
(cd "$here/kwok" && go mod download) >&2

# BUILD FLAGS
# Static binaries as upstream builds them; -pgo=off skips the profile-guided build. Without the -X flags /version
# says v0.0.0-master (k8s.io/component-base/version and k8s.io/client-go/pkg/version read them).
version_flags=()
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=(-X "$pkg.gitVersion=$kubernetes_version" -X "$pkg.gitMajor=1" -X "$pkg.gitMinor=$minor"
    -X "$pkg.gitTreeState=clean")
done
build_flags=(-trimpath -pgo=off -buildvcs=false)
# END BUILD FLAGS

step "2/3 building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd (the long step)"
# One go build shares the compilation of the packages the binaries have in common.
(cd "$here/kubernetes" && go build "${build_flags[@]}" -ldflags="-s -w ${version_flags[*]}" -o "$work/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3) >&2
# go names the binary of a module root ending in /v3 after the element before it.
mv "$work/server" "$work/etcd"

step "3/3 building kwok"
(cd "$here/kwok" && go build "${build_flags[@]}" -ldflags="-s -w" -o "$work/" sigs.k8s.io/kwok/cmd/kwok) >&2

if ! missing=$(check_folder "$work"); then
  echo "control-plane/build.sh: the build did not produce $missing" >&2
  exit 1
fi
# Another build of the same key may have finished first: keep either, they are the same.
[[ -d "$target" ]] || mv "$work" "$target"
step "done: $target"
echo "$target"
