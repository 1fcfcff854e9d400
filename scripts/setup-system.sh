#!/usr/bin/env bash
# System packages the project needs: Debian's chromium for Remotion renders. Idempotent.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
