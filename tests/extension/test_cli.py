"""The command line: click, the same commands as `aitrapp-chaos` and as the `chaos aitrapp` plugin, help for
every command and option, exit codes in the help, no traceback when the reader of its output goes away."""
import subprocess
import sys
from pathlib import Path

import click
import pytest

from chaosaitrapp.cli import cli, main

BIN = Path(sys.executable).parent


def commands(group: click.Group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))


ALL = list(commands(cli))


@pytest.mark.parametrize("path,command", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_and_option_has_help_and_the_exit_codes(path, command):
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    assert "Exit codes:" in (command.epilog or ""), f"{' '.join(path)} does not list its exit codes"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts[0]} has no help text"


def test_the_documented_commands_exist():
    names = {" ".join(p) for p, _ in ALL}
    assert {"lab", "lab up", "lab down", "lab status", "lab logs", "run", "report", "cleanup", "docs", "new"} <= names
    cleanup_options = {opt for p in dict(ALL)[("cleanup",)].params for opt in getattr(p, "opts", [])}
    assert {"--only-expired", "--timeout", "--ledger"} <= cleanup_options


def test_chaos_plugin_is_the_same_group(tmp_path):
    via_chaos = subprocess.run([str(BIN / "chaos"), "--no-version-check", "--no-log-file", "aitrapp", "lab", "--help"],
                               capture_output=True, text=True, timeout=60)
    assert via_chaos.returncode == 0, via_chaos.stderr
    direct = subprocess.run([str(BIN / "aitrapp-chaos"), "lab", "--help"], capture_output=True, text=True, timeout=60)
    assert direct.returncode == 0
    strip = lambda text: text.split("\n", 1)[1]  # noqa: E731 (the usage line names the program)
    assert strip(via_chaos.stdout) == strip(direct.stdout)


def test_closed_pipe_gives_no_traceback():
    proc = subprocess.run(f"'{BIN / 'aitrapp-chaos'}' docs | head -n 1", shell=True, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("# Reference")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_exit_codes_of_bad_input(capsys):
    assert main(["run", "no_such_drill"]) == 2
    assert "unknown drill 'no_such_drill'" in capsys.readouterr().err
    assert main(["report", "/nonexistent/journal.json"]) == 2
    assert main(["cleanup", "--timeout", "-1"]) == 2
    assert main(["lab", "status", "--lab-dir", "/nonexistent/lab"]) == 3
