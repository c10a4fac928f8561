#!/bin/sh
# docker-entrypoint.sh of chaosaitrapp/redis:*-local: the official redis image's interface.
#
# The command is redis-server's argv: `redis-server --port 6380 --save "3600 1"`; a command that
# starts with an option (`--port 6380`) or a .conf file gets `redis-server` put in front. As root,
# /data is handed to the redis user and redis-server runs as redis (setpriv instead of gosu).
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	chown -R redis:redis .
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
