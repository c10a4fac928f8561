"""Postgres as a local process: its own cluster in ``<lab_dir>/postgres/data`` (or, with a data volume of its
own, ``lab up --pg-volume-mb``, in ``<lab_dir>/postgres/volume/data``, a tmpfs mount), loopback TCP only.

First use runs ``initdb`` (scram-sha-256 on TCP, a random superuser password that is thrown away)
and creates role ``trader`` (password ``trader``) and database ``aitrapp`` in single-user mode,
like the compose file. No Unix socket is opened (``unix_socket_directories=''``).

Postgres refuses to run as root: when we are root, the data directory is owned by the ``postgres``
OS user and every program runs through ``setpriv --reuid/--regid`` (which execs, so the pid in the
pidfile is the postmaster itself). That user must be able to traverse the lab directory; when it
cannot (e.g. a lab under ``/root``), the cluster lives in ``/var/lib/chaosaitrapp/<hash>`` and
``<lab_dir>/postgres`` is a symlink to it.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional

from chaosaitrapp.lab.errors import BinaryMissing, LabError
from chaosaitrapp.lab.runtime.preflight import maybe_setpriv, postgres_bindir
from chaosaitrapp.targets.labstate import ServiceSpec

PG_USER = "postgres"
FALLBACK_ROOT = Path("/var/lib/chaosaitrapp")


def _as_postgres() -> Optional[pwd.struct_passwd]:
    """The ``postgres`` account when we are root (and must switch to it), else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        raise LabError("running as root, Postgres needs an unprivileged OS user 'postgres' but there is none; "
                       "create it (useradd --system postgres) or run the lab as a normal user") from None


def _wrap(argv: List[str]) -> List[str]:
    account = _as_postgres()
    if account is None:
        return argv
    setpriv = maybe_setpriv()
    if not setpriv:
        raise BinaryMissing("running as root, the lab needs 'setpriv' (util-linux) to run Postgres as user "
                            "'postgres'; install util-linux", binary="setpriv")
    return [setpriv, f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", "--", *argv]


def _traversable_by(path: Path, account: pwd.struct_passwd) -> bool:
    """True when ``account`` can reach ``path`` (every ancestor searchable by it)."""
    for ancestor in [path, *path.parents]:
        try:
            st = ancestor.stat()
        except FileNotFoundError:
            continue
        if st.st_uid == account.pw_uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid == account.pw_gid:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


def postgres_root(lab_dir: Path) -> Path:
    """``<lab_dir>/postgres`` (possibly a symlink to a directory the postgres user can reach)."""
    link = lab_dir / "postgres"
    if link.is_symlink() or link.exists():
        return link.resolve()
    account = _as_postgres()
    if account is None or _traversable_by(lab_dir, account):
        link.mkdir(parents=True)
        return link
    digest = hashlib.sha1(str(lab_dir).encode()).hexdigest()[:12]
    target = FALLBACK_ROOT / f"lab-{digest}"
    FALLBACK_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(FALLBACK_ROOT, 0o755)
    target.mkdir(exist_ok=True)
    os.chmod(target, 0o755)
    link.symlink_to(target)
    return target


def volume_dir(lab_dir: Path) -> Path:
    """Where a data volume of its own is mounted for the lab's Postgres (``lab up --pg-volume-mb``; named
    through ``<lab_dir>/postgres``, which may be a symlink; nothing is created)."""
    return Path(lab_dir) / "postgres" / "volume"


def volume_size_mb(lab_dir: Path) -> int:
    """The size of the lab Postgres' own data volume (MiB), 0 when it has none."""
    volume = volume_dir(lab_dir)
    if not os.path.ismount(volume):
        return 0
    stats = os.statvfs(volume)
    return round(stats.f_blocks * stats.f_frsize / 1024 ** 2)


def mount_volume(lab_dir: Path, size_mb: int) -> Path:
    """Mount a tmpfs of ``size_mb`` MiB as the lab Postgres' data volume (unless one of that size is there),
    owned by the user Postgres runs as: a small disk of its own the disk-full drill may fill. LabError when
    it cannot be mounted (it needs root)."""
    postgres_root(lab_dir)
    volume = volume_dir(lab_dir)
    if os.path.ismount(volume):
        if volume_size_mb(lab_dir) == size_mb:
            return volume
        unmount_volume(lab_dir)
    volume.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={int(size_mb)}m,mode=0755", "tmpfs", str(volume)],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise LabError(f"cannot mount a {size_mb} MiB data volume for Postgres at {volume}: "
                       f"{done.stderr.strip() or done.returncode} (it needs root)")
    account = _as_postgres()
    if account is not None:
        os.chown(volume, account.pw_uid, account.pw_gid)
    return volume


def unmount_volume(lab_dir: Path) -> None:
    """Unmount the lab Postgres' own data volume (its cluster goes with it), when there is one; LabError
    when it stays mounted."""
    volume = volume_dir(lab_dir)
    if not os.path.ismount(volume):
        return
    done = subprocess.run(["umount", str(volume)], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise LabError(f"cannot unmount the Postgres data volume {volume}: {done.stderr.strip() or done.returncode}")


def data_dir(lab_dir: Path) -> Path:
    """The cluster's data directory: on the lab Postgres' own data volume when one is mounted."""
    volume = volume_dir(lab_dir)
    return (volume if os.path.ismount(volume) else postgres_root(lab_dir)) / "data"


def _run(argv: List[str], log: Path, what: str, stdin: Optional[str] = None) -> None:
    with open(log, "ab") as out:
        proc = subprocess.run(_wrap(argv), input=stdin.encode() if stdin else None, stdout=out,
                              stderr=subprocess.STDOUT, timeout=120)
    if proc.returncode != 0:
        raise LabError(f"Postgres {what} failed (exit {proc.returncode}); see {log}", log=str(log))


def init_cluster(lab_dir: Path, user: str, password: str, database: str) -> Path:
    """Create the cluster, role and database unless done before; the data directory."""
    bindir = postgres_bindir()
    data = data_dir(lab_dir)
    root = data.parent
    log = lab_dir / "logs" / "postgres.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if (data / "PG_VERSION").exists() and (root / ".lab-initialised").exists():
        return data
    if data.exists():
        shutil.rmtree(data)  # a half-made cluster from an interrupted first start
    account = _as_postgres()
    data.mkdir(parents=True, mode=0o700)
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
        os.chown(data, account.pw_uid, account.pw_gid)
    fd, pwfile = tempfile.mkstemp(prefix="pgpw-", dir=str(root))
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
        if account is not None:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", pwfile, "-E", "UTF8",
              "--locale=C", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--no-instructions"],
             log, "initdb")
    finally:
        os.unlink(pwfile)
    escaped = password.replace("'", "''")
    sql = (f"CREATE ROLE {user} LOGIN PASSWORD '{escaped}';\n"
           f"CREATE DATABASE {database} OWNER {user};\n")
    with open(log, "ab") as out:
        out.write(b"[lab] creating role and database in single-user mode\n")
    _run([str(bindir / "postgres"), "--single", "-D", str(data), "-c", "unix_socket_directories=", "postgres"],
         log, "role/database creation", stdin=sql)
    (root / ".lab-initialised").write_text("ok\n")
    return data


def postgres_spec(lab_dir: Path, port: int) -> ServiceSpec:
    """The ServiceSpec that starts (and restarts) the lab's Postgres (cluster must exist)."""
    bindir = postgres_bindir()
    data = data_dir(lab_dir)
    argv = _wrap([str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                  "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                  "-c", "logging_collector=off", "-c", "fsync=off", "-c", "max_connections=50"])
    return ServiceSpec(name="postgres", kind="process", host="127.0.0.1", port=port, check="postgres",
                       pidfile=str(lab_dir / "run" / "postgres.pid"), argv=argv, env={}, cwd=str(data.parent),
                       log=str(lab_dir / "logs" / "postgres.log"))
