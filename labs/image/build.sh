#!/usr/bin/env bash
# Builds the lab image (a Debian 13 root filesystem) once per recipe, from Debian's packages with mmdebstrap.
#   build.sh          build the image if the cache has none for this recipe, and print its path
#   build.sh --path   only print where the image for this recipe lives (built or not)
# The cache lives outside the repository, keyed by the hash of this recipe, so a rebuild happens only
# when packages.txt or this script changes. Sandboxes share the image read-only as their overlay lower dir.
#
# Sandboxes run in user namespaces whose ids 0-65535 are host ids 2100000-2165535 (the range below). runc
# 1.1 cannot idmap a mount, so the image is owned by that range on disk: root inside owns what it should.
# The range is written into the image (.idmap), and the engine maps every sandbox to the image's range.
set -euo pipefail

SANDBOX_ID_BASE=2100000
SANDBOX_ID_COUNT=65536

here=$(cd "$(dirname "$0")" && pwd)
cache=${WIRELAB_IMAGE_CACHE:-/var/cache/wirelab/images}
recipe_hash=$(cat "$here/packages.txt" "$here/build.sh" "$here/profile.sh" "$here/lab-command.sh" "$here/shift-ownership.py" "$here/strongswan-tools.conf" | sha256sum | cut -c1-16)
image="$cache/$recipe_hash"

if [[ "${1:-}" == "--path" ]]; then
  echo "$image"
  exit 0
fi
if [[ -f "$image/.complete" ]]; then
  echo "$image"
  exit 0
fi

packages=$(grep -v -e '^#' -e '^\s*$' "$here/packages.txt" | paste -sd, -)
mkdir -p "$cache"
staging=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$staging"' EXIT

echo "wirelab: building the lab image $recipe_hash from Debian packages (about a minute, once)..." >&2
# The host's own Debian mirrors (or local proxy), which the host already reaches, asked for trixie instead
# of bookworm; other vendors' sources on the host are left out.
trixie_sources=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | awk -v RS= -v ORS='\n\n' '/(^|[[:space:]])bookworm(-updates|-security)?([[:space:]]|$)/' \
  | grep -v -E '^deb .* cloud-sdk|nodesource' \
  | sed -E 's/\<bookworm(-updates|-security)?\>/trixie\1/g' || true)
if [[ -z "$trixie_sources" ]]; then
  echo "wirelab: the host's apt sources name no Debian bookworm mirror to take trixie from" >&2
  exit 1
fi
mmdebstrap \
  --variant=minbase \
  --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="install -m 0644 '$here/profile.sh' \"\$1/etc/profile.d/wirelab.sh\"" \
  --customize-hook="install -m 0755 '$here/lab-command.sh' \"\$1/usr/local/bin/lab\"" \
  --customize-hook="install -m 0644 '$here/strongswan-tools.conf' \"\$1/etc/strongswan.d/wirelab-tools.conf\"" \
  --customize-hook='echo lab > "$1/etc/hostname"' \
  --customize-hook='rm -f "$1/etc/resolv.conf"; : > "$1/etc/resolv.conf"' \
  --customize-hook='mkdir -p "$1/sys/fs/bpf" "$1/run/wirelab"' \
  trixie "$staging/rootfs" - <<<"$trixie_sources" >&2

python3 "$here/shift-ownership.py" "$staging/rootfs" "$SANDBOX_ID_BASE"
echo "$SANDBOX_ID_BASE $SANDBOX_ID_COUNT" > "$staging/rootfs/.idmap"

mv "$staging/rootfs" "$staging/image"
rm -rf "$image"
mv "$staging/image" "$image"
touch "$image/.complete"
echo "$image"
