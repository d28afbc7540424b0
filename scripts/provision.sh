#!/usr/bin/env bash
# What `npm test` needs on a Debian machine, made ready before it runs (`pretest`): Chromium,
# and PostgreSQL, Redis and MariaDB accepting connections on 127.0.0.1. Only what is missing is
# installed or started, so on a ready machine it prints nothing and returns at once; run it as
# often as you like. Installing Chromium and starting the servers need root; a machine set up
# by hand (or pointed elsewhere with CHROMIUM_PATH, TEST_POSTGRES_URL, TEST_REDIS_URL,
# TEST_MYSQL_URL) needs
# nothing from it.
set -uo pipefail

HOST=127.0.0.1
# How long a server that was just started may take to accept connections.
WAIT_SECONDS=30

say() { echo "provision: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# Runs the command until it succeeds, for at most WAIT_SECONDS; false when it never did.
wait_until() {
	local _
	for _ in $(seq 1 "$WAIT_SECONDS"); do
		"$@" && return 0
		sleep 1
	done
	"$@"
}

ensure_chromium() {
	local chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
	[ -x "$chromium" ] && return 0
	[ -n "${CHROMIUM_PATH:-}" ] && die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"
	[ "$(id -u)" -eq 0 ] || die "Chromium is missing: run 'apt-get install chromium' as root, or set CHROMIUM_PATH"
	say "installing chromium (Debian package) for the browser tests"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || die "could not install chromium"
	"$chromium" --version >/dev/null || die "chromium does not start"
}

postgres_ready() { pg_isready -q -h "$HOST" -p "$1"; }

ensure_postgres() {
	local port=$1 status
	pg_isready -q -h "$HOST" -p "$port"
	status=$?
	[ "$status" -eq 0 ] && return 0
	# Exit status 1: the server is up but still starting; anything else: nobody answers.
	if [ "$status" -ne 1 ]; then
		local version
		version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
		[ -n "$version" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
		say "starting PostgreSQL $version"
		pg_ctlcluster --skip-systemctl-redirect "$version" main start || say "pg_ctlcluster failed; waiting anyway"
	fi
	wait_until postgres_ready "$port" || die "PostgreSQL is not accepting connections on $HOST:$port"
}

redis_ready() { redis-cli -h "$HOST" -p "$1" ping >/dev/null 2>&1; }

ensure_redis() {
	local port=$1
	redis_ready "$port" && return 0
	command -v redis-server >/dev/null || die "redis-server is missing (apt-get install redis-server)"
	say "starting Redis on $HOST:$port"
	redis-server --daemonize yes --bind "$HOST" --port "$port" --save "" --appendonly no >/dev/null ||
		die "could not start Redis"
	wait_until redis_ready "$port" || die "Redis is not answering on $HOST:$port"
}

# mariadb-admin ping succeeds as soon as the server answers, even when it refuses the user.
mariadb_ready() { mariadb-admin --protocol=tcp -h "$HOST" -P "$1" --connect-timeout=2 ping >/dev/null 2>&1; }

ensure_mariadb() {
	local port=$1
	mariadb_ready "$port" && return 0
	[ -x /usr/sbin/mariadbd ] || die "MariaDB is not installed (apt-get install mariadb-server)"
	say "starting MariaDB"
	# /run is emptied at boot; the server (user = mysql in /etc/mysql/my.cnf) keeps its socket there.
	[ -d /run/mysqld ] || install -d -o mysql -g mysql /run/mysqld
	# --oknodo: a mariadbd already running (still starting) is left alone.
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || die "could not start MariaDB"
	wait_until mariadb_ready "$port" || die "MariaDB is not accepting connections on $HOST:$port"
}

main() {
	ensure_chromium
	# A server of one's own given to the tests replaces the local one.
	[ -n "${TEST_POSTGRES_URL:-}" ] || ensure_postgres 5432
	[ -n "${TEST_REDIS_URL:-}" ] || ensure_redis 6379
	[ -n "${TEST_MYSQL_URL:-}" ] || ensure_mariadb 3306
}

# Sourced (to try one step alone), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main; fi
