#!/usr/bin/env bash
# Builds the pinned Kubernetes, etcd and kwok binaries from the Go module proxy into a cache
# outside the repository, keyed by version. A second run with the cache present does nothing.
# Sourced by deploy/local-cluster; runnable alone: deploy/build-k8s.sh
set -euo pipefail
: "${K8S_VERSION:=v1.34.11}"
: "${ETCD_VERSION:=v3.6.16}"
: "${KWOK_VERSION:=v0.8.0}"
: "${ZUNK8S_CACHE:=$HOME/.cache/zunk8s}"
BIN="$ZUNK8S_CACHE/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
# Never let go download another toolchain; build the kubelet with cgo as upstream does.
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -trimpath"
export NO_PROXY=127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

build_k8s() {
  local cmds="kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy"
  local missing=0 c
  for c in $cmds; do [ -x "$BIN/$c" ] || missing=1; done
  [ "$missing" = 0 ] && return 0
  local w="$ZUNK8S_CACHE/build/k8s-$K8S_VERSION"
  mkdir -p "$w" "$BIN"
  (
    cd "$w"
    [ -f go.mod ] || go mod init zunk8s.local/k8sbuild >/dev/null 2>&1
    log "downloading k8s.io/kubernetes@$K8S_VERSION go.mod"
    local kmod staging
    kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
    staging="v0.${K8S_VERSION#v1.}"
    # k8s.io/kubernetes maps its staging modules to ./staging/...; as a dependency those paths do
    # not exist, so point each at its published version and copy the other versioned replaces.
    go mod edit -json "$kmod" | python3 -c '
import json, sys
m = json.load(sys.stdin); st = sys.argv[1]
print("-go=" + m["Go"])
for g in m.get("Godebug") or []:
    print("-godebug=%s=%s" % (g["Key"], g["Value"]))
for r in m.get("Replace") or []:
    o, n = r["Old"], r["New"]
    if n["Path"].startswith("./staging/"):
        print("-replace=%s=%s@%s" % (o["Path"], o["Path"], st))
    elif n.get("Version"):
        old = o["Path"] + ("@" + o["Version"] if o.get("Version") else "")
        print("-replace=%s=%s@%s" % (old, n["Path"], n["Version"]))
' "$staging" | xargs go mod edit
    local pkgs=()
    for c in $cmds; do pkgs+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
    log "resolving modules"
    go get -tool "${pkgs[@]}"
    local minor ldf="-s -w"
    minor=$(echo "$K8S_VERSION" | cut -d. -f2)
    for vp in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldf+=" -X $vp.gitVersion=$K8S_VERSION -X $vp.gitMajor=1 -X $vp.gitMinor=$minor"
      ldf+=" -X $vp.gitTreeState=clean -X $vp.buildDate=1970-01-01T00:00:00Z"
    done
    for c in kube-apiserver kube-controller-manager kube-scheduler kubectl kube-proxy; do
      [ -x "$BIN/$c" ] && continue
      log "building $c"
      CGO_ENABLED=0 go build -ldflags "$ldf" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c"
      mv "$BIN/$c.tmp" "$BIN/$c"
    done
    if [ ! -x "$BIN/kubelet" ]; then
      log "building kubelet (cgo)"
      CGO_ENABLED=1 go build -ldflags "$ldf" -o "$BIN/kubelet.tmp" k8s.io/kubernetes/cmd/kubelet
      mv "$BIN/kubelet.tmp" "$BIN/kubelet"
    fi
  )
}

build_etcd() {
  [ -x "$BIN/etcd" ] && return 0
  local w="$ZUNK8S_CACHE/build/etcd-$ETCD_VERSION"
  mkdir -p "$w" "$BIN"
  (
    cd "$w"
    [ -f go.mod ] || go mod init zunk8s.local/etcdbuild >/dev/null 2>&1
    log "building etcd $ETCD_VERSION"
    # etcd's server go.mod has replace lines, so `go install` refuses it; as a dependency of a
    # throwaway module its replaces are ignored and the required versions are used.
    go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    CGO_ENABLED=0 go build -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$BIN/etcd.tmp" "$BIN/etcd"
  )
}

build_kwok() {
  [ -x "$BIN/kwok" ] && return 0
  mkdir -p "$BIN"
  log "building kwok $KWOK_VERSION"
  CGO_ENABLED=0 GOBIN="$BIN" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# Where kwok's stage and CRD YAML live (read at run time from the module cache, never copied).
kwok_src() {
  GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])'
}

build_all() {
  build_etcd
  build_kwok
  build_k8s
  log "binaries ready in $BIN"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  build_all
fi
