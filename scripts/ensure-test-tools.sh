#!/usr/bin/env bash
# Installs the tools some tests need when the machine lacks them:
# - Go, for the differential tests' encoding/json reference reader (test/differential/readers/).
#   Python 3 is taken from PATH as it is.
# - Prometheus (Debian's prometheus package: promtool and prometheus), for the alert rule tests
#   and the real-Prometheus test of deploy/prometheus/.
# - Kustomize v5 (what deploy/kubernetes/ is tested with), for
#   test/integration/kubernetes.test.ts, which renders deploy/kubernetes/. `kubectl kustomize`
#   serves when kubectl is new enough; otherwise a pinned kustomize release is downloaded and
#   checked against its SHA-256 (Debian's kubernetes-client is 1.20, whose Kustomize predates
#   Components, and Debian packages no kustomize).
#
# Runs as the `pretest` step, so it must never fail the caller: when it cannot install, it says
# so in one line and exits 0, and the tests report the tool unavailable (which fails them under
# CI=true rather than skipping them).
set -u

KUSTOMIZE_VERSION=v5.5.0
# sha256 of kustomize_v5.5.0_linux_amd64.tar.gz as several independent public build files pin
# it (the release host was out of reach when this was written; docs/kubernetes.md).
KUSTOMIZE_SHA256_AMD64=6703a3a70a0c47cf0b37694030b54f1175a9dfeb17b3818b623ed58b9dbc2a77

# Installs a Debian package when the command it provides is missing: ensure_apt_package
# <command> <package> <what is unavailable without it> [<version command>]. Quiet when present.
ensure_apt_package() {
  local cmd="$1" pkg="$2" unavailable="$3" version_cmd="${4:-}"
  version() { if [ -n "$version_cmd" ]; then eval "$version_cmd" 2>/dev/null || echo 'version unknown'; else echo 'present'; fi; }

  if command -v "$cmd" >/dev/null 2>&1; then
    echo "ensure-test-tools: $cmd present ($(version)), nothing to do"
    return
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "ensure-test-tools: $cmd missing; not root, so not installing $pkg ($unavailable)"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-test-tools: $cmd missing; no apt-get, so not installing $pkg ($unavailable)"
    return
  fi

  local log
  log="$(mktemp "${TMPDIR:-/tmp}/ensure-test-tools.XXXXXX")"
  # The package lists may be absent or stale on a fresh machine; one update per run is enough.
  if { [ -n "${APT_UPDATED:-}" ] || apt-get update >"$log" 2>&1; } &&
    DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "$pkg" >>"$log" 2>&1 &&
    command -v "$cmd" >/dev/null 2>&1; then
    APT_UPDATED=1
    echo "ensure-test-tools: installed $pkg ($(version))"
    rm -f "$log"
  else
    echo "ensure-test-tools: installing $pkg failed ($unavailable); apt output in $log"
  fi
}

# The major version of the Kustomize inside kubectl, or nothing.
kubectl_kustomize_major() {
  command -v kubectl >/dev/null 2>&1 || return
  kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\)\..*/\1/p'
}

ensure_kustomize() {
  local unavailable="the Kubernetes manifest tests will be unavailable"
  local major
  major="$(kubectl_kustomize_major)"
  if [ -n "$major" ] && [ "$major" -ge 5 ]; then
    echo "ensure-test-tools: kubectl kustomize present (Kustomize v$major), nothing to do"
    return
  fi
  if command -v kustomize >/dev/null 2>&1; then
    echo "ensure-test-tools: kustomize present ($(kustomize version 2>/dev/null)), nothing to do"
    return
  fi
  if [ "$(uname -m)" != "x86_64" ]; then
    echo "ensure-test-tools: kustomize missing; no pinned checksum for $(uname -m) ($unavailable)"
    return
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "ensure-test-tools: kustomize missing; not root, so not installing it ($unavailable)"
    return
  fi
  local dir url
  dir="$(mktemp -d "${TMPDIR:-/tmp}/ensure-kustomize.XXXXXX")"
  url="https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2F${KUSTOMIZE_VERSION}/kustomize_${KUSTOMIZE_VERSION}_linux_amd64.tar.gz"
  # Node is on every machine that runs the tests; curl may not be.
  if node -e '
      const [url, file] = process.argv.slice(1);
      fetch(url).then(async (r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        require("node:fs").writeFileSync(file, Buffer.from(await r.arrayBuffer()));
      }).catch((e) => { console.error(String(e)); process.exit(1); });
    ' "$url" "$dir/kustomize.tar.gz" 2>"$dir/log" &&
    echo "$KUSTOMIZE_SHA256_AMD64  $dir/kustomize.tar.gz" | sha256sum -c --status - &&
    tar -xzf "$dir/kustomize.tar.gz" -C "$dir" kustomize &&
    install -m 0755 "$dir/kustomize" /usr/local/bin/kustomize; then
    echo "ensure-test-tools: installed kustomize $KUSTOMIZE_VERSION"
    rm -rf "$dir"
  else
    echo "ensure-test-tools: installing kustomize $KUSTOMIZE_VERSION failed ($unavailable); see $dir"
  fi
}

ensure_apt_package go golang-go "the Go reference reader will be unavailable" 'go env GOVERSION'
# promtool checks and unit-tests deploy/prometheus/rules.yaml; prometheus itself runs the
# real-Prometheus integration test. Debian's prometheus package ships both.
ensure_apt_package promtool prometheus "the alert rule and Prometheus tests will be unavailable" \
  'promtool --version | head -n 1'
ensure_kustomize
exit 0
