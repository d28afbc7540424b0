#!/usr/bin/env bash
# Puts a supported Node first on PATH without touching the system's own (Debian ships Node 20,
# which SvelteKit 3 no longer runs on). The Node comes from the npm registry's binary package
# node-linux-<arch>@<line> (a plain tarball: no install script, nothing fetched from elsewhere),
# installed once into a cache folder outside the repository; npm itself stays the system's and
# runs on whichever node is first on PATH. What setup-node does in hosted CI.
#
#   . scripts/node.sh [line]            this shell: that line first on PATH
#   bash scripts/node.sh line command…  runs one command with that line first on PATH
#
# line: a major version (26) or an exact one (22.17.0); without it, the one in .nvmrc (the
# newest LTS, which the project is developed and measured on). Cache: $LATCHKEY_NODE_CACHE,
# else ~/.cache/latchkey-node.
_latchkey_node() {
	local line=${1:-} root arch dir
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	[ -n "$line" ] || line=$(tr -d ' \r\nv' <"$root/.nvmrc")
	case $(uname -m) in
		x86_64) arch=x64 ;;
		aarch64 | arm64) arch=arm64 ;;
		*) echo "node.sh: no node-linux package for $(uname -m)" >&2 && return 1 ;;
	esac
	dir=${LATCHKEY_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latchkey-node}/$line
	if [ ! -x "$dir/node_modules/node-linux-$arch/bin/node" ]; then
		echo "node.sh: installing node-linux-$arch@$line into $dir" >&2
		npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
			--prefix "$dir" "node-linux-$arch@$line" >&2 || return 1
	fi
	PATH="$dir/node_modules/node-linux-$arch/bin:$PATH"
	export PATH
	hash -r
	echo "node.sh: using node $(node --version) from $dir" >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	[ $# -ge 2 ] || { echo "usage: bash scripts/node.sh <line> <command> [args…]" >&2; exit 2; }
	_latchkey_node "$1"
	shift
	exec "$@"
else
	_latchkey_node "${1:-}"
fi
