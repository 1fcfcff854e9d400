#!/usr/bin/env bash
# System packages the project needs: Debian's chromium for Remotion renders, and redis-server for
# the distributed-worker tests (they start their own on 127.0.0.1). Idempotent.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
	"${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
