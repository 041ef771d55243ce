#!/usr/bin/env bash
# Installs the toolchains the differential tests' reference readers need
# (test/differential/readers/): Go, for the encoding/json reader. Python 3 is taken from PATH
# as it is.
#
# Runs as the `pretest` step, so it must never fail the caller: when it cannot install, it says
# so in one line and exits 0, and the readers report themselves unavailable (which fails the
# tests under CI=true rather than skipping them).
set -u

unavailable="the Go reference reader will be unavailable"
version() { go env GOVERSION 2>/dev/null || echo 'version unknown'; }

if command -v go >/dev/null 2>&1; then
  echo "ensure-test-tools: go present ($(version)), nothing to do"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "ensure-test-tools: go missing; not root, so not installing golang-go ($unavailable)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: go missing; no apt-get, so not installing golang-go ($unavailable)"
  exit 0
fi

log="$(mktemp "${TMPDIR:-/tmp}/ensure-test-tools.XXXXXX")"
# The package lists may be absent or stale on a fresh machine; one update is enough.
if apt-get update >"$log" 2>&1 &&
  DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends golang-go >>"$log" 2>&1 &&
  command -v go >/dev/null 2>&1; then
  echo "ensure-test-tools: installed golang-go ($(version))"
  rm -f "$log"
else
  echo "ensure-test-tools: installing golang-go failed ($unavailable); apt output in $log"
fi
exit 0
