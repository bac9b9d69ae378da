#!/usr/bin/env bash
# Makes this machine ready to run wirelab, doing only what is missing:
#   Debian packages (runc, mmdebstrap, chromium for the browser tests), npm packages,
#   the lab image (built once per recipe, cached), and the site's production build.
# Usage: scripts/setup.sh [--no-build]   (--no-build skips the site build; npm test builds itself)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1mwirelab setup:\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "wirelab runs lab sandboxes with runc and needs root: run this as root (for example: sudo npm start)."
  exit 1
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
node_minor=$(node -p 'process.versions.node.split(".")[1]')
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 9 ]; }; then
  say "Node.js >= 20.9 is required (this is $(node --version))."
  exit 1
fi

# Debian packages, by the command each one provides. The compilers build better-sqlite3 and
# node-pty when npm cannot fetch their prebuilt binaries (only the npm registry may be reachable),
# and the engine's small C helpers (server/engine/native). bpftrace runs on the host, for the
# tracing the server does on learners' behalf (server/mediation/tracing.ts). bpftool counts the BPF objects
# left on the host after `npm run soak`.
declare -A package_of=(
  [runc]=runc [mmdebstrap]=mmdebstrap [chromium]=chromium [ip]=iproute2 [tar]=tar [mount]=mount
  [make]=make [g++]=g++ [python3]=python3 [bpftrace]=bpftrace [bpftool]=bpftool
)
missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${package_of[$command]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
fi

# npm packages, when the lock file is newer than what node_modules holds.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
node -e "require('better-sqlite3'); require('node-pty')" 2>/dev/null || {
  say "the native modules did not build; rebuilding better-sqlite3 and node-pty"
  npm rebuild better-sqlite3 node-pty
}

# The lab image: built from Debian packages the first time, then taken from the cache.
bash labs/image/build.sh >/dev/null

# The helpers the engine runs as host root (the bpffs hook, the knob writer), built from source.
make -s -C server/engine/native

# The site: rebuilt when its sources changed since the last build.
if [ "${1:-}" != "--no-build" ]; then
  source_hash=$(find app components content labs public next.config.mjs mdx-components.tsx package-lock.json -type f 2>/dev/null | sort | xargs sha256sum | sha256sum | cut -c1-16)
  if [ "$(cat .next/wirelab-source-hash 2>/dev/null)" != "$source_hash" ]; then
    say "building the site (next build)"
    npx next build
    echo "$source_hash" > .next/wirelab-source-hash
  fi
fi
