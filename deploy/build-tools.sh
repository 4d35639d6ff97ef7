#!/usr/bin/env bash
# Builds the tools the local cluster needs beside Kubernetes itself, from the Go module proxy into
# a cache outside the repository, one directory per tool and version (a second run does nothing):
#   coredns  the cluster's DNS (cluster.local only; nothing is forwarded off the machine)
#   crane    a registry server (`crane registry serve`) and the client that pushes the zunk8s image
#   helm     installs charts/zunk8s
#   kube-router  the NetworkPolicy engine (firewall only), in a directory of its own
#   registry  distribution's registry: the local cluster's second registry, which asks for a
#             password (htpasswd), for private-registry credentials; in a directory of its own
# kube-proxy is built by build-k8s.sh with the other Kubernetes binaries (same module).
# Sourced by deploy/local-cluster; runnable alone: deploy/build-tools.sh
set -euo pipefail
: "${COREDNS_VERSION:=v1.15.0}"
: "${CRANE_VERSION:=v0.22.1}"
: "${HELM_VERSION:=v4.3.1}"
# The only version the module proxy serves (newer ones answer 403 on their .mod). Its advisories
# are in the service proxy, which the local cluster never runs (README).
: "${KUBE_ROUTER_VERSION:=v2.1.0}"
: "${DISTRIBUTION_VERSION:=v3.1.2}"
: "${ZUNK8S_CACHE:=$HOME/.cache/zunk8s}"
TOOLS_BIN="$ZUNK8S_CACHE/bin/tools-coredns-$COREDNS_VERSION-crane-$CRANE_VERSION-helm-$HELM_VERSION"
KUBE_ROUTER_BIN="$ZUNK8S_CACHE/bin/kube-router-$KUBE_ROUTER_VERSION"
DISTRIBUTION_BIN="$ZUNK8S_CACHE/bin/distribution-$DISTRIBUTION_VERSION"

tlog() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# build_tool NAME MODULE@VERSION PACKAGE [DIR]: builds PACKAGE inside a throwaway module (so that
# the tool's own replace lines do not stop `go install`), static and stripped, into DIR
# (default TOOLS_BIN).
build_tool() {
  local name=$1 modver=$2 pkg=$3 dir=${4:-$TOOLS_BIN}
  [ -x "$dir/$name" ] && return 0
  local w="$ZUNK8S_CACHE/build/$name-${modver#*@}"
  mkdir -p "$w" "$dir"
  (
    cd "$w"
    export GOTOOLCHAIN=local GOFLAGS="-mod=mod -trimpath"
    [ -f go.mod ] || go mod init "zunk8s.local/${name}build" >/dev/null 2>&1
    tlog "building $name ${modver#*@}"
    go get -tool "$modver"
    CGO_ENABLED=0 go build -ldflags "-s -w" -o "$dir/$name.tmp" "$pkg"
    mv "$dir/$name.tmp" "$dir/$name"
  )
}

build_tools() {
  build_tool crane "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane
  build_tool coredns "github.com/coredns/coredns@$COREDNS_VERSION" github.com/coredns/coredns
  build_tool helm "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" helm.sh/helm/v4/cmd/helm
  build_tool kube-router "github.com/cloudnativelabs/kube-router/v2@$KUBE_ROUTER_VERSION" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$KUBE_ROUTER_BIN"
  build_tool registry "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION_VERSION" \
    github.com/distribution/distribution/v3/cmd/registry "$DISTRIBUTION_BIN"
  tlog "tools ready in $TOOLS_BIN"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  build_tools
fi
