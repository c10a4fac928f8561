#!/bin/bash
# docker-entrypoint.sh of chaosaitrapp/postgres:*-local: the official postgres image's interface.
#
# Environment (as the official image): POSTGRES_PASSWORD (required unless
# POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default postgres), POSTGRES_DB (default
# $POSTGRES_USER), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
# PGDATA (default /var/lib/postgresql/data), and the *_FILE variants of the first four.
# On first start (no $PGDATA/PG_VERSION) the cluster is initialised as the postgres user, the
# database is created, /docker-entrypoint-initdb.d/*.sh and *.sql are run against a server
# listening on its unix socket only, then the server named by the command starts:
# `postgres -c listen_addresses=127.0.0.1 -c port=25432`. A command starting with an option
# gets `postgres` put in front.
#
# Deliberate difference: TCP connections need the password, localhost included (initdb
# --auth-host), where the official image trusts 127.0.0.1; unix-socket connections are trusted.
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR from VAR or from the file named by VAR_FILE.
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

want_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?'|--help|--describe-config|-V|--version) return 0 ;;
		esac
	done
	return 1
}

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" = 'postgres' ] && ! want_help "$@"; then
	if [ "$EUID" = 0 ]; then
		mkdir -p "$PGDATA" /var/run/postgresql
		chmod 00700 "$PGDATA"
		chown -R postgres:postgres "$PGDATA"
		chown postgres:postgres /var/run/postgresql
		chmod 03775 /var/run/postgresql
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
	fi

	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		file_env POSTGRES_PASSWORD
		file_env POSTGRES_USER postgres
		file_env POSTGRES_DB "$POSTGRES_USER"
		file_env POSTGRES_INITDB_ARGS
		: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
		if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
			echo >&2 "error: database is uninitialized and superuser password is not specified."
			echo >&2 "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)."
			exit 1
		fi
		if [ -n "$POSTGRES_PASSWORD" ]; then
			eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") \
				--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" '"$POSTGRES_INITDB_ARGS"
		else
			eval 'initdb --username="$POSTGRES_USER" --auth-local=trust \
				--auth-host="$POSTGRES_HOST_AUTH_METHOD" '"$POSTGRES_INITDB_ARGS"
		fi
		printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

		# A temporary server on the unix socket only (no TCP while initialising).
		PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
		psql_cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc -p 5432)
		if [ "$POSTGRES_DB" != 'postgres' ]; then
			"${psql_cmd[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
		fi
		for f in /docker-entrypoint-initdb.d/*; do
			case "$f" in
				*.sh)  echo "$0: running $f"; . "$f" ;;
				*.sql) echo "$0: running $f"; "${psql_cmd[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
				*)     if [ -e "$f" ]; then echo "$0: ignoring $f"; fi ;;
			esac
		done
		pg_ctl -D "$PGDATA" -m fast -w stop
		unset PGPASSWORD POSTGRES_PASSWORD
		echo 'PostgreSQL init process complete; ready for start up.'
	fi
fi

exec "$@"
