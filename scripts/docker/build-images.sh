#!/bin/bash
# Build chaosaitrapp's local Redis and Postgres images from this host's binaries (no registry,
# no network, no debootstrap): a root filesystem with the server binaries, their shared
# libraries (found by ldd), a shell and a few coreutils, minimal /etc files and an entrypoint
# that mimics the official image, so `redis:7` / `postgres:16` can be used in their place.
#
# Usage: scripts/docker/build-images.sh [--force]
#
#   --force    rebuild even when the images exist and are up to date
#
# Environment: CHAOSAITRAPP_REDIS_IMAGE (default chaosaitrapp/redis:7-local),
# CHAOSAITRAPP_POSTGRES_IMAGE (default chaosaitrapp/postgres:15-local), PG_MAJOR (default 15).
#
# Idempotent: an image is rebuilt only when it is missing, when its recipe label (a hash of
# this script, the entrypoints and the host binaries' versions) differs, or with --force.
# Needs a running engine (scripts/docker/start-engine.sh), redis-server and PostgreSQL
# $PG_MAJOR installed on the host.
#
# redis image:    ENTRYPOINT docker-entrypoint.sh, CMD redis-server --bind 127.0.0.1,
#                 WORKDIR/VOLUME /data, runs as user redis (uid 999).
# postgres image: ENTRYPOINT docker-entrypoint.sh, CMD postgres, STOPSIGNAL SIGINT,
#                 PGDATA=/var/lib/postgresql/data (VOLUME), runs as user postgres (uid 999);
#                 honours POSTGRES_USER/PASSWORD/DB/INITDB_ARGS/HOST_AUTH_METHOD.
set -euo pipefail

FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "build-images: unknown argument $arg (try --help)" >&2; exit 2 ;;
    esac
done

HERE="$(cd "$(dirname "$0")" && pwd)"
REDIS_IMAGE="${CHAOSAITRAPP_REDIS_IMAGE:-chaosaitrapp/redis:7-local}"
POSTGRES_IMAGE="${CHAOSAITRAPP_POSTGRES_IMAGE:-chaosaitrapp/postgres:15-local}"
PG_MAJOR="${PG_MAJOR:-15}"
PG_LIB="/usr/lib/postgresql/$PG_MAJOR"
PG_SHARE="/usr/share/postgresql/$PG_MAJOR"
REDIS_BIN="$(readlink -f "$(command -v redis-server || echo /usr/bin/redis-server)")"
REDIS_CLI="$(command -v redis-cli || true)"

die() { echo "build-images: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/docker/start-engine.sh first)"
[ -x "$REDIS_BIN" ] || die "redis-server not found on this host (apt-get install redis-server)"
[ -x "$PG_LIB/bin/postgres" ] || die "PostgreSQL $PG_MAJOR not found in $PG_LIB (apt-get install postgresql-$PG_MAJOR)"

T0="$(now)"
WORK="$(mktemp -d /tmp/chaosaitrapp-images.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# copy SRC [DEST] ROOT: copy SRC (symlinks followed) to ROOT/DEST (default the same path).
copy() {
    local root="$1" src="$2" dest="${3:-$2}"
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$src" "$root$dest"
}

# copy_libs ROOT FILE...: the shared libraries FILE... need (ldd), at their host paths.
copy_libs() {
    local root="$1"; shift
    local out
    out="$(ldd "$@" 2>&1)" || true
    if grep -q 'not found' <<<"$out"; then
        die "missing shared libraries: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ' | head -5)"
    fi
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' <<<"$out" \
        | sort -u | while read -r lib; do
            [ -e "$root$lib" ] || copy "$root" "$lib"
        done
}

# base_rootfs ROOT USER HOME SHELL: a merged-/usr skeleton with sh, bash, a few coreutils,
# setpriv, and /etc files naming root and USER (uid/gid 999, as the official images).
base_rootfs() {
    local root="$1" user="$2" home="$3" shell="$4"
    mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,etc,tmp,root,dev,proc,sys,run,var/run}
    ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"
    ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
    chmod 1777 "$root/tmp"
    local t tools=(/bin/dash /bin/bash /bin/cat /bin/chmod /bin/chown /bin/ls /bin/mkdir /bin/rm
                 /usr/bin/env /usr/bin/id /usr/bin/locale /usr/bin/setpriv)
    for t in "${tools[@]}"; do copy "$root" "$t"; done
    ln -s dash "$root/usr/bin/sh"
    copy_libs "$root" "${tools[@]}"
    cat >"$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
$user:x:999:999:$user:$home:$shell
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
    cat >"$root/etc/group" <<GROUP
root:x:0:
$user:x:999:
nogroup:x:65534:
GROUP
    printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$root/etc/hosts"
    if [ -d /usr/lib/locale/C.utf8 ]; then
        mkdir -p "$root/usr/lib/locale"; cp -a /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
    fi
}

# finish_rootfs ROOT: the dynamic linker's cache for the copied libraries.
finish_rootfs() {
    ldconfig -r "$1" 2>/dev/null || true
}

recipe() {
    { cat "$0" "$HERE/images/redis-entrypoint.sh" "$HERE/images/postgres-entrypoint.sh"
      "$REDIS_BIN" --version; "$PG_LIB/bin/postgres" --version; } | sha256sum | cut -c1-16
}
RECIPE="$(recipe)"

up_to_date() {
    local have
    have="$(docker image inspect -f '{{index .Config.Labels "org.chaosaitrapp.recipe"}}' "$1" 2>/dev/null || true)"
    [ "$FORCE" = 0 ] && [ "$have" = "$RECIPE" ]
}

# build ROOTDIR_PARENT TAG: `docker build` (legacy builder: FROM scratch needs no registry).
build() {
    local old
    old="$(docker image inspect -f '{{.Id}}' "$2" 2>/dev/null || true)"
    DOCKER_BUILDKIT=0 docker build --quiet --tag "$2" "$1" >/dev/null 2>"$1/build.err" \
        || die "docker build of $2 failed: $(tail -n 20 "$1/build.err")"
    # The image it replaces, if now untagged and unused by any container.
    if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$2")" ]; then
        docker rmi "$old" >/dev/null 2>&1 || true
    fi
}

build_redis() {
    local ctx="$WORK/redis" root="$WORK/redis/rootfs"
    base_rootfs "$root" redis /data /bin/sh
    copy "$root" "$REDIS_BIN" /usr/local/bin/redis-server
    local bins=("$REDIS_BIN")
    if [ -n "$REDIS_CLI" ]; then copy "$root" "$REDIS_CLI" /usr/local/bin/redis-cli; bins+=("$REDIS_CLI"); fi
    copy_libs "$root" "${bins[@]}"
    mkdir -p "$root/data"
    install -m 0755 "$HERE/images/redis-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
    finish_rootfs "$root"
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /data
VOLUME /data
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server", "--bind", "127.0.0.1"]
LABEL org.chaosaitrapp.recipe="$RECIPE" \\
      org.opencontainers.image.description="redis-server $("$REDIS_BIN" --version | awk '{print $3}') from the host, official redis image interface"
DOCKERFILE
    build "$ctx" "$REDIS_IMAGE"
}

build_postgres() {
    local ctx="$WORK/postgres" root="$WORK/postgres/rootfs"
    base_rootfs "$root" postgres /var/lib/postgresql /bin/bash
    mkdir -p "$root$PG_LIB" "$root/usr/share/postgresql"
    cp -a "$PG_LIB/bin" "$root$PG_LIB/"
    mkdir -p "$root$PG_LIB/lib"
    # Everything but the LLVM JIT (hundreds of MB of LLVM; without it Postgres runs with jit off).
    find "$PG_LIB/lib" -maxdepth 1 -type f -name '*.so' ! -name 'llvmjit*' -exec cp -a {} "$root$PG_LIB/lib/" \;
    cp -a "$PG_SHARE" "$root/usr/share/postgresql/"
    rm -rf "$root$PG_SHARE/man"
    cp -a /usr/share/zoneinfo "$root/usr/share/"
    copy_libs "$root" "$root$PG_LIB"/bin/* "$root$PG_LIB"/lib/*.so
    mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/docker-entrypoint-initdb.d"
    chmod 1777 "$root/var/lib/postgresql/data"
    install -m 0755 "$HERE/images/postgres-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
    finish_rootfs "$root"
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PG_LIB/bin \\
    PG_MAJOR=$PG_MAJOR LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
LABEL org.chaosaitrapp.recipe="$RECIPE" \\
      org.opencontainers.image.description="PostgreSQL $PG_MAJOR from the host, official postgres image interface"
DOCKERFILE
    build "$ctx" "$POSTGRES_IMAGE"
}

for pair in "redis:$REDIS_IMAGE" "postgres:$POSTGRES_IMAGE"; do
    kind="${pair%%:*}"; image="${pair#*:}"
    if up_to_date "$image"; then
        echo "build-images: $image is up to date (recipe $RECIPE)"
        continue
    fi
    t="$(now)"
    "build_$kind"
    echo "build-images: built $image in $(elapsed "$t") s"
done
echo "build-images: done in $(elapsed "$T0") s"
