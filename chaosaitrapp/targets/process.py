"""``process:PIDFILE``: a local process, stopped by signal and restarted **as it ran**.

Stop: the stop signal (SIGTERM; SIGINT for Postgres, its "fast" shutdown), wait until the pid is gone, SIGKILL
at the deadline; a pidfile whose pid now runs another program is stale and that pid is never signalled. Start:
the command is launched detached (its own session, not our child, so it outlives the ``chaos`` process), the
pidfile is written with the new pid, and ``start`` returns once the service answers (Redis PING, Postgres
accepting connections, or a TCP connect) on the port it listens on.

A target named by its pidfile alone is read before anything is done to it (:meth:`ProcessDriver.capture`):
its command line, working directory, user and group, environment and the TCP port it listens on; it is
started again with exactly those. The fault ledger's recipe holds the command, directory, user, port and
the *names* of the environment variables, never their values: the run that stopped it keeps them in
memory, hands them to its watchdog in the watchdog's own environment (``AITRAPP_RESTART_ENV``), and a
later ``aitrapp-chaos cleanup`` takes them from its own environment, or refuses naming the missing ones.

A stop that was interrupted (Ctrl-C, SIGTERM, the ``chaos`` process killed) may leave the process shutting down
but still alive, and still answering for a moment: a ``start`` that took it for running would return, the fault
would be marked undone, and the process would then exit for good. So ``stop`` writes ``<pidfile>.stopping`` (the
pid it signals) before signalling and removes it once the pid is gone, and ``start``, from any process (rollback,
watchdog, cleanup), first finishes a stop that marker shows unfinished (signal again, wait, SIGKILL at the
deadline) before launching the command. A marker that cannot be written (read-only pidfile directory) does not
prevent the stop; it only loses that protection.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import psutil

from chaosaitrapp import procs
from chaosaitrapp.config import SECRET_ENV
from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import TargetError, TargetNotFound
from chaosaitrapp.targets.answers import service_answers
from chaosaitrapp.waiting import wait_until

#: Joins the cgroup(s) whose ``cgroup.procs`` files ``$AITRAPP_CGROUP_PROCS`` names (the lab's
#: ``--cpu-limit``/``--memory-limit``), writes its pid, then becomes the service.
_LAUNCHER = 'for f in $AITRAPP_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; echo $$ > "$0"; exec "$@"'
_SHELLS = ("sh", "dash", "bash")


#: The watchdog's environment variable holding the environments of the processes it may restart (JSON:
#: ``{pidfile: {name: value}}``); never written to a file.
RESTART_ENV = "AITRAPP_RESTART_ENV"
#: Environments captured from processes this run stopped, by pidfile (in memory only).
_CAPTURED_ENV: Dict[str, Dict[str, str]] = {}


def inherited_env(drop: Iterable[str] = SECRET_ENV) -> Dict[str, str]:
    """This process's environment without the variables in ``drop`` (the drill's secrets by default) and
    without the restart environments a watchdog carries: a dependency restarted by a drill never inherits them."""
    dropped = set(drop) | {RESTART_ENV}
    return {k: v for k, v in os.environ.items() if k not in dropped}


def _remembered_env(pidfile: str) -> Dict[str, str]:
    """The environment captured from ``pidfile``'s process: by this run, else handed to this watchdog."""
    if pidfile in _CAPTURED_ENV:
        return dict(_CAPTURED_ENV[pidfile])
    try:
        handed = json.loads(os.environ.get(RESTART_ENV) or "{}")
    except ValueError:
        return {}
    found = handed.get(pidfile) if isinstance(handed, dict) else None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def listening_port(pid: int) -> Optional[int]:
    """The lowest TCP port process ``pid`` listens on, or None."""
    try:
        ports = sorted({c.laddr.port for c in psutil.Process(pid).net_connections(kind="tcp")
                        if c.status == psutil.CONN_LISTEN})
    except (psutil.Error, AttributeError):
        return None
    return ports[0] if ports else None


def launch_detached(argv: List[str], pidfile: Path, *, cwd: Optional[str] = None,
                    env: Optional[Dict[str, str]] = None, log: Optional[str] = None) -> None:
    """Start ``argv`` in its own session, not as our child (``setsid -f``), so it outlives us and
    leaves no zombie; the process writes its own pid to ``pidfile`` before it execs, and its output
    is appended to ``log``. Returns once the launcher has handed over (the pid may follow a moment later)."""
    Path(pidfile).parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        launcher = subprocess.Popen(  # by absolute path: ``env`` (a process's own) may have no PATH
            [shutil.which("setsid") or "setsid", "-f", shutil.which("sh") or "sh", "-c", _LAUNCHER, str(pidfile), *argv],
            cwd=cwd, env=env if env is not None else inherited_env(), stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, close_fds=True,
        )
        launcher.wait(timeout=10)
    finally:
        if out is not subprocess.DEVNULL:
            out.close()


def read_pid(pidfile: Path) -> Optional[int]:
    """The pid on the first line of ``pidfile``, or None when the file is absent or empty;
    TargetError when it holds something else."""
    try:
        first = Path(pidfile).read_text().splitlines()[0].strip()
    except (FileNotFoundError, IndexError):
        return None
    try:
        return int(first)
    except ValueError:
        raise TargetError(f"pidfile {pidfile} does not start with a pid: {first[:40]!r}", pidfile=str(pidfile))


def read_pid_quietly(pidfile: Path) -> Optional[int]:
    """Like :func:`read_pid`, but None for an unreadable or garbled pidfile too."""
    try:
        return read_pid(pidfile)
    except (TargetError, OSError):
        return None


def pid_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie (:func:`chaosaitrapp.procs.alive`)."""
    return procs.alive(pid)


def runs_command(pid: int, argv: List[str]) -> bool:
    """True when ``pid`` lives and runs ``argv`` (guards against a recycled pid).

    Accepted: the exact argv; the detached launcher that has written the pid but not yet exec'd it
    (``sh -c 'echo $$ > PIDFILE; exec "$@"' PIDFILE ARGV...``: the same pid becomes the service);
    the part after ``--`` of a ``setpriv ... -- ARGV`` (it execs); a server that rewrote its title
    (Redis shows ``redis-server 127.0.0.1:PORT``) by its program name, for programs that are not
    interpreters.
    """
    actual = procs.cmdline(pid)
    if not actual or not argv:
        return False
    expected = list(argv)
    if actual == expected:
        return True
    if os.path.basename(actual[0]) in _SHELLS and len(actual) > len(expected) and actual[-len(expected):] == expected:
        return True
    if "--" in expected and os.path.basename(expected[0]) == "setpriv":
        expected = expected[expected.index("--") + 1:]
        if actual == expected:
            return True
    program = os.path.basename(expected[0])
    first = os.path.basename(actual[0].split()[0])
    return not program.startswith(("python", "sh")) and first == program


def runs_other_command(pid: int, argv: List[str]) -> bool:
    """True when ``pid`` shows a command line that is not ``argv``'s (:func:`runs_command`): a recycled pid. A live
    process whose command line reads empty (inside its exec) is not held against it; a gone one shows nothing."""
    return bool(procs.cmdline(pid)) and not runs_command(pid, argv)


#: What a Redis started on its command line may have been given there (its config file holds the rest).
_REDIS_STARTUP = ("port", "bind", "dir", "dbfilename", "save", "appendonly", "daemonize", "pidfile", "logfile")


def _title_rewritten(argv: List[str]) -> bool:
    """True when a process rewrote its title over its command line (Redis: ``redis-server 127.0.0.1:6379``)."""
    return bool(argv) and " " in argv[0] and not any(argv[1:])


def _redis_argv(pid: int, executable: str, port: Optional[int]) -> List[str]:
    """A Redis's command line rebuilt from what it says of itself (its title replaced the real one):
    ``INFO server``'s executable and config file, and the startup settings of :data:`_REDIS_STARTUP` as it
    runs with them now. TargetError when it cannot be asked."""
    import redis  # noqa: PLC0415 - only a Redis target needs this client (targets.answers)

    if port is None:
        raise TargetError(f"redis pid {pid} listens on no TCP port: its command line cannot be rebuilt", pid=pid)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2)
    try:
        info = client.info("server")
        settings = {key: client.config_get(key).get(key) for key in _REDIS_STARTUP}
    except redis.RedisError as exc:
        raise TargetError(f"redis pid {pid}: its title replaced its command line and it cannot be asked for it "
                          f"({exc}); give its start command as a lab: or compose target instead", pid=pid) from None
    finally:
        client.close()
    argv = [str(info.get("executable") or executable)]
    if info.get("config_file"):
        argv.append(str(info["config_file"]))
    for key in _REDIS_STARTUP:
        if settings.get(key) is not None:
            argv += [f"--{key}", str(settings[key])]
    return argv


class ProcessDriver:
    """A local process named by its pidfile, with the command that starts it again."""

    def __init__(
        self,
        pidfile: str,
        argv: Optional[List[str]] = None,
        cwd: Optional[str] = None,
        env: Optional[Dict[str, str]] = None,
        log: Optional[str] = None,
        check: Optional[str] = None,
        host: str = "127.0.0.1",
        port: Optional[int] = None,
        stop_signal: Optional[str] = None,
        name: Optional[str] = None,
        env_names: Optional[List[str]] = None,
        user: Optional[List[int]] = None,
    ) -> None:
        self.pidfile = Path(pidfile)
        self.argv = list(argv or [])
        self.cwd = cwd
        self.env = dict(env or {})
        self.env_names = sorted(env_names) if env_names else None
        self.user = list(user) if user else None
        self.log = log
        self.check = check
        self.host = host
        self.port = port
        self.stop_signal = stop_signal or ("SIGINT" if check == "postgres" else "SIGTERM")
        self.name = name or self.pidfile.stem

    def describe(self) -> str:
        """``process:<pidfile>``."""
        return f"process:{self.pidfile}"

    def pid(self) -> Optional[int]:
        """The pid in the pidfile while it is this service; None for none, or for a live process running another
        command than the one known (given or captured; :func:`runs_command`): a stale pidfile's recycled pid, never
        signalled. An empty command line (a process inside its exec) is not held against it."""
        return self._unless_stale(read_pid(self.pidfile))

    def _unless_stale(self, pid: Optional[int]) -> Optional[int]:
        return None if pid is not None and self.argv and runs_other_command(pid, self.argv) else pid

    def is_running(self) -> bool:
        """True when the pidfile names a live process that is this service (:meth:`pid`)."""
        pid = self.pid()
        return pid is not None and pid_alive(pid)

    def answers(self) -> bool:
        """True when the service answers its check (running alone is not enough) on its port: the one it was
        given or seen listening on; a process that listens on nothing yet does not answer."""
        if self.port is None and self.check is None:
            return self.is_running()
        port = self.port
        if port is None:
            pid = self._unless_stale(read_pid_quietly(self.pidfile))
            port = listening_port(pid) if pid is not None and pid_alive(pid) else None
            if port is None:
                return False
        return service_answers(self.check, self.host, port)

    def capture(self) -> None:
        """Read how the process runs now, to start it again the same way (module docstring): its command
        line, directory, user and group, environment (kept in memory) and listening port. Nothing to do
        when the command is already known or the process is not running."""
        if self.argv:
            return
        pid = self.pid()
        if pid is None or not pid_alive(pid):
            return
        try:
            process = psutil.Process(pid)
            argv, cwd, env = process.cmdline(), process.cwd(), process.environ()
            uid, gid = process.uids().real, process.gids().real
        except psutil.Error as exc:
            raise TargetError(f"{self.describe()}: cannot read how pid {pid} runs, to start it again the same "
                              f"way: {exc}", target=self.describe()) from None
        if self.check == "redis" and _title_rewritten(argv):
            argv = _redis_argv(pid, process.exe(), listening_port(pid))
        self.argv, self.cwd = list(argv), cwd
        self.user = [uid, gid] if (uid, gid) != (os.getuid(), os.getgid()) else None
        self.env_names = sorted(env)
        _CAPTURED_ENV[str(self.pidfile)] = dict(env)
        if self.port is None:
            self.port = listening_port(pid)

    def restart_env(self) -> Optional[Dict[str, str]]:
        """For a watchdog's environment: ``{RESTART_ENV: JSON}`` holding this process's captured environment
        (the values the ledger never holds), or None."""
        if not self.env_names:
            return None
        return {RESTART_ENV: json.dumps({str(self.pidfile): _remembered_env(str(self.pidfile))})}

    @property
    def stopping_marker(self) -> Path:
        """``<pidfile>.stopping``: the pid a stop signalled, until that pid is gone."""
        return self.pidfile.with_name(self.pidfile.name + ".stopping")

    def stop(self, timeout: float = 30.0) -> None:
        """Signal the process and wait until it is gone; SIGKILL it at ``timeout``. Idempotent."""
        pid = self.pid()
        if pid is None or not pid_alive(pid):
            self._clear_stopping()
            return
        try:  # before the signal, so that an interrupted stop stays known to the next start
            self.stopping_marker.write_text(f"{pid}\n")
        except OSError:  # a read-only pidfile directory: stop anyway, without that protection
            pass
        self._stop_pid(pid, timeout)

    def _stop_pid(self, pid: int, timeout: float) -> None:
        sig = getattr(signal, self.stop_signal)
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            self._clear_stopping()
            return
        except PermissionError as exc:
            raise TargetError(f"{self.describe()}: not allowed to signal pid {pid}: {exc}", pid=pid)
        gone = wait_until(lambda: pid_alive(pid), lambda alive: not alive, timeout=timeout, interval=0.02,
                          what=f"{self.describe()} to exit")
        if gone.held:
            self._clear_stopping()
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            self._clear_stopping()
            return
        killed = wait_until(lambda: pid_alive(pid), lambda alive: not alive, timeout=5, interval=0.02)
        if not killed.held:
            raise TargetError(f"{self.describe()}: pid {pid} survived SIGKILL", pid=pid)
        self._clear_stopping()

    def _clear_stopping(self) -> None:
        try:
            self.stopping_marker.unlink(missing_ok=True)
        except OSError:
            pass

    def _finish_interrupted_stop(self, timeout: float) -> None:
        """A stop marker naming the live pid of the pidfile: that process was told to stop and may
        still be shutting down; stop it for good (signal again, SIGKILL at ``timeout``)."""
        try:
            marked = read_pid(self.stopping_marker)
        except TargetError:
            marked = None
        if marked is None:
            self._clear_stopping()
            return
        pid = self.pid()
        if pid == marked and pid_alive(pid):
            self._stop_pid(pid, timeout)
        else:
            self._clear_stopping()

    def start(self, timeout: float = 60.0) -> None:
        """Finish a stop left unfinished (see the module docstring), launch the command detached unless it is
        running (or a copy started otherwise answers on its port), and wait until it answers."""
        if self.stopping_marker.exists():
            self._finish_interrupted_stop(timeout)
        if not self.is_running() and not (self.port is not None and self.answers()):
            self._launch()
        ok = wait_until(self.answers, bool, timeout=timeout, interval=0.05, what=f"{self.describe()} to answer")
        if not ok.held:
            raise TargetError(
                f"{self.describe()} started but did not answer its {self.check or 'liveness'} check "
                f"within {timeout:.0f}s" + (f" (see {self.log})" if self.log else ""),
                target=self.describe(),
            )

    def _launch(self) -> None:
        if not self.argv:
            raise TargetError(f"{self.describe()}: no start command known, cannot start it (it was not running "
                              "when the drill read it)", target=self.describe())
        if shutil.which(self.argv[0]) is None and not Path(self.argv[0]).exists():
            raise TargetNotFound(f"{self.describe()}: start command {self.argv[0]!r} not found", argv0=self.argv[0])
        if self.env_names:  # as it ran: exactly its own environment
            known = _remembered_env(str(self.pidfile)) or {n: os.environ[n] for n in self.env_names if n in os.environ}
            missing = [n for n in self.env_names if n not in known]
            if missing:
                raise TargetError(f"{self.describe()}: cannot start it as it ran: the values of {', '.join(missing)} "
                                  "are not known in this process (they are never written down); export them and "
                                  "run `aitrapp-chaos cleanup` again, or start it by hand and run "
                                  "`aitrapp-chaos cleanup --forget ENTRY`", target=self.describe())
            env = {**known, **self.env}
        else:
            env = {**inherited_env(), **self.env}
        argv = self.argv
        if self.user:
            argv = ["setpriv", f"--reuid={self.user[0]}", f"--regid={self.user[1]}", "--clear-groups", "--", *argv]
        launch_detached(argv, self.pidfile, cwd=self.cwd, env=env, log=self.log)
        started = wait_until(self.is_running, bool, timeout=5, interval=0.01, what=f"{self.describe()} pid")
        if not started.held:
            raise TargetError(f"{self.describe()}: the process did not start" +
                              (f" (see {self.log})" if self.log else ""), target=self.describe())

    def undo(self) -> dict:
        """Recipe to restart this process from another process: as it runs now when only its pidfile was
        given (:meth:`capture`; the names of its environment variables, never their values), else its command
        (no secret in ``env``)."""
        self.capture()
        kept = ("argv", "cwd", "env", "log", "check", "host", "port", "stop_signal", "name", "env_names", "user")
        return {"driver": ref_of(ProcessDriver), "pidfile": str(self.pidfile), **{k: getattr(self, k) for k in kept}}

    @classmethod
    def from_undo(cls, undo: dict) -> "ProcessDriver":
        """Rebuild from :meth:`undo`'s dict."""
        fields = {k: v for k, v in undo.items() if k != "driver"}
        return cls(**fields)


def process_driver(rest: str, service: str) -> ProcessDriver:
    """The ``process:PIDFILE`` target kind's driver for dependency ``service`` (its answer check)."""
    return ProcessDriver(rest, check=service if service in ("redis", "postgres") else None)
