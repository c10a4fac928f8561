"""Reading the target's leader lock key in its Redis: who holds it and for how long (``PTTL``).

How Redis is reached (:func:`lock_reader`), first known wins: the ``lock_redis`` setting
(``redis://host:port/db`` without a password, ``docker:NAME`` to run ``redis-cli`` in the container, or
``process:PIDFILE``: the port that process listens on); the ``REDIS_URL`` secret (a password allowed:
it is never written out); else the Redis target itself (its driver, resolved by the caller): a container,
or a process on the port it listens on. None
when none of these is known: then the lock cannot be read, and what depends on it says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import psutil
import redis

from chaosaitrapp.config import core_setting, redis_url, value
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.scrub import scrub_text
from chaosaitrapp.targets.docker import DockerDriver, docker_driver
from chaosaitrapp.targets.docker_client import explain_docker_error
from chaosaitrapp.targets.docker_infer import inside_port
from chaosaitrapp.targets.process import read_pid_quietly

#: How long one read of the lock may take.
READ_TIMEOUT_S = 1.0


#: The lock's holder and PTTL in one round trip (a missing key: an empty holder).
READ_SCRIPT = "return {redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}"


@dataclass(frozen=True)
class LockReader:
    """Reads ``key`` in the target's Redis, by URL (``url``) or in a container (``container``); ``label``
    names it in messages (never with a password)."""

    label: str
    url: Optional[str] = None
    container: Optional[str] = None  #: ``NAME[@PROJECT]``: a container name or a compose service

    def read(self, key: str) -> Tuple[Optional[str], Optional[int]]:
        """``(holder, pttl_ms)``: the key's value (None: absent) and its remaining TTL in ms (None: absent or
        no TTL). A container's Redis is read over loopback when the host reaches its port (host networking,
        or a port published on the host's loopback or all addresses) and it asks no password; else with
        ``redis-cli`` in the container, one exec per read (slower: learning a short refresh period may then
        say unknown). TargetError naming the Redis when it cannot be read."""
        url = self.url
        if self.container:
            url = _direct_url(str(self.container))
            if url is None:
                return self._read_in_container(key)
        client = redis.Redis.from_url(str(url), socket_timeout=READ_TIMEOUT_S,
                                      socket_connect_timeout=READ_TIMEOUT_S)
        try:
            holder, pttl = client.get(key), client.pttl(key)
        except redis.RedisError as exc:
            raise TargetError(f"{self.label}: cannot read {key}: {scrub_text(str(exc))}", target=self.label) from None
        finally:
            client.close()
        return (holder.decode() if holder is not None else None), (int(pttl) if pttl and pttl > 0 else None)

    def command(self, *args: str, timeout: float = READ_TIMEOUT_S) -> Any:
        """Run one Redis command in the target's Redis, reached as :meth:`read` reaches it (a container's
        Redis over loopback when it can, else ``redis-cli`` in the container); its answer (a container's
        as text). TargetError naming the Redis when the command fails or Redis cannot be reached."""
        url = self.url
        if self.container:
            url = _direct_url(str(self.container))
            if url is None:
                return self._command_in_container(args)
        client = redis.Redis.from_url(str(url), socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            return client.execute_command(*args)
        except redis.RedisError as exc:
            raise TargetError(f"{self.label}: {args[0]} failed: {scrub_text(str(exc))}", target=self.label) from None
        finally:
            client.close()

    def _command_in_container(self, args: Tuple[str, ...]) -> str:
        target = f"docker:{self.container}"
        container = docker_driver(str(self.container), "redis").container()
        port = str(inside_port(container.attrs, "redis"))
        try:
            answer = container.exec_run(["redis-cli", "-p", port, "--raw", *args])
        except Exception as exc:  # noqa: BLE001 - the engine's errors, explained and named
            raise explain_docker_error(target, f"run {args[0]} in the container", exc) from None
        text = answer.output.decode(errors="replace").strip()
        if answer.exit_code or text.startswith(("ERR", "NOAUTH", "WRONGPASS")):
            raise TargetError(f"{self.label}: {args[0]} failed: {scrub_text(text[:120])}", target=self.label)
        return text

    def _read_in_container(self, key: str) -> Tuple[Optional[str], Optional[int]]:
        target = f"docker:{self.container}"
        driver = docker_driver(str(self.container), "redis")
        container = driver.container()  # a name or a compose service (of a project): as the driver finds it
        port = str(inside_port(container.attrs, "redis"))
        try:  # one exec for both (each exec costs a round trip to the engine): the holder, then the PTTL
            answer = container.exec_run(["redis-cli", "-p", port, "--raw", "EVAL", READ_SCRIPT, "1", key])
            lines = answer.output.decode().split("\n")
        except Exception as exc:  # noqa: BLE001 - the engine's errors, explained and named
            raise explain_docker_error(target, "read the lock key in the container", exc) from None
        try:
            holder, ms = lines[0].strip(), int(lines[1].strip())
        except (ValueError, IndexError):
            raise TargetError(f"{self.label}: GET/PTTL {key} answered {answer.output[:80]!r}",
                              target=self.label) from None
        return (holder or None), (ms if ms > 0 else None)


_DIRECT: Dict[str, Optional[str]] = {}  # container spec -> loopback URL that answers, or None (exec it is)


def _direct_url(spec: str) -> Optional[str]:
    """A loopback URL reaching the Redis of container ``spec`` without a password, found once per spec."""
    if spec in _DIRECT:
        return _DIRECT[spec]
    found: Optional[str] = None
    try:
        attrs = docker_driver(spec, "redis").container().attrs
        port = inside_port(attrs, "redis")
        candidates = []
        if (attrs.get("HostConfig") or {}).get("NetworkMode") == "host":
            candidates.append(int(port))
        for binding in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(f"{port}/tcp") or []:
            if binding.get("HostIp") in ("", "0.0.0.0", "127.0.0.1", "::", None) and binding.get("HostPort"):
                candidates.append(int(binding["HostPort"]))
        for candidate in candidates:
            client = redis.Redis(host="127.0.0.1", port=candidate, socket_timeout=READ_TIMEOUT_S,
                                 socket_connect_timeout=READ_TIMEOUT_S)
            try:
                if client.ping():
                    found = f"redis://127.0.0.1:{candidate}/0"
                    break
            except redis.RedisError:
                continue  # not this one (or it wants a password): redis-cli in the container instead
            finally:
                client.close()
    except Exception:  # noqa: BLE001 - no direct way found: the exec path reports the engine's errors itself
        found = None
    _DIRECT[spec] = found
    return found


def _listening_port(pidfile: str) -> Optional[int]:
    pid = read_pid_quietly(pidfile)  # type: ignore[arg-type]
    if pid is None:
        return None
    try:
        ports = sorted({c.laddr.port for c in psutil.Process(pid).net_connections(kind="tcp")
                        if c.status == psutil.CONN_LISTEN})
    except (psutil.Error, AttributeError):
        return None
    return ports[0] if ports else None


def reader_for(where: str) -> LockReader:
    """The reader of ``where``: ``redis://...``, ``docker:NAME`` or ``process:PIDFILE``; ConfigError for
    anything else, or a URL carrying a password (that belongs in the ``REDIS_URL`` secret)."""
    scheme, _, rest = where.partition(":")
    if scheme in ("redis", "rediss"):
        if urlsplit(where).password or urlsplit(where).username:
            raise ConfigError("lock_redis must not carry credentials: give the URL as the REDIS_URL secret",
                              key="lock_redis")
        return LockReader(where, url=where)
    if scheme == "docker" and rest:
        return LockReader(where, container=rest)
    if scheme == "process" and rest:
        port = _listening_port(rest)
        if port is None:
            raise TargetError(f"{where}: the process is not running or listens on no TCP port", target=where)
        return LockReader(where, url=f"redis://127.0.0.1:{port}/0")
    raise ConfigError(f"lock_redis {where!r}: expected redis://host:port/db, docker:NAME or process:PIDFILE",
                      key="lock_redis")


def lock_reader(configuration: Optional[Mapping[str, Any]] = None, secrets: Optional[Mapping[str, Any]] = None,
                redis: Any = None) -> Optional[LockReader]:
    """How this drill reads the lock (module docstring), or None when no way is known. ``redis``: the Redis
    target's driver, resolved by the caller (a container is read with ``redis-cli`` in it, a process on
    the port it listens on)."""
    given = value(configuration, core_setting("lock_redis"))
    if given:
        return reader_for(str(given))
    url = redis_url(secrets)
    if url:
        return LockReader("the REDIS_URL secret", url=url)
    if isinstance(redis, DockerDriver):
        spec = redis.name + (f"@{redis.project}" if redis.project else "")
        return LockReader(f"docker:{spec}", container=spec)
    port = getattr(redis, "port", None)
    if redis is not None and not port and getattr(redis, "pidfile", None):
        pid = read_pid_quietly(redis.pidfile)
        port = _listening_port(str(redis.pidfile)) if pid else None
    if port:
        return LockReader(f"{redis.describe()} (port {port})", url=f"redis://127.0.0.1:{port}/0")
    return None


def lock_key(configuration: Optional[Mapping[str, Any]] = None) -> str:
    """The lock's key (``lock_key``, default ``trader:leader``)."""
    return str(value(configuration, core_setting("lock_key")))
