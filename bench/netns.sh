#!/usr/bin/env bash
# Puts the bench's load generator on the other side of a veth pair, in a network namespace of
# its own, so that `npm run bench -- --netns lkclient` measures a server whose clients are not
# on its loopback: their packets cross a (virtual) link and wake the server through its driver.
# Needs root. The addresses are the ones bench/index.ts loads (NETNS_ADDRESSES).
#
#   sudo bench/netns.sh up      # namespace lkclient, veth-s 10.99.0.1/24 <-> veth-c 10.99.0.2/24
#   flock /tmp/latchkey-ports.lock npm run bench -- --netns lkclient …
#   sudo bench/netns.sh down    # removes the namespace, and with it both ends of the pair
set -euo pipefail

NETNS=${NETNS:-lkclient}

case "${1:-}" in
up)
	ip netns add "$NETNS"
	ip link add veth-s type veth peer name veth-c
	ip link set veth-c netns "$NETNS"
	ip addr add 10.99.0.1/24 dev veth-s
	ip link set veth-s up
	ip netns exec "$NETNS" ip addr add 10.99.0.2/24 dev veth-c
	ip netns exec "$NETNS" ip link set veth-c up
	ip netns exec "$NETNS" ip link set lo up
	echo "netns $NETNS: veth-c 10.99.0.2, the server side veth-s 10.99.0.1"
	;;
down)
	ip netns del "$NETNS" 2>/dev/null || true
	ip link del veth-s 2>/dev/null || true
	;;
*)
	echo "usage: $0 up|down   (namespace \$NETNS, default lkclient)" >&2
	exit 2
	;;
esac
