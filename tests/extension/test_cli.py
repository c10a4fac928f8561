"""The command line: click, the same commands as `aitrapp-chaos` and as the `chaos aitrapp` plugin, help for
every command and option, exit codes in the help, no traceback when the reader of its output goes away."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from chaosaitrapp.cli import cli, main

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def commands(group: click.Group, prefix=()):
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
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
    assert {"lab", "lab up", "lab down", "lab status", "lab logs", "run", "report", "trends", "cleanup", "docs", "new"} <= names
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


def test_a_malformed_experiment_or_journal_is_bad_input_named_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{bad")
    for command in ("run", "doctor"):
        assert main([command, str(bad)]) == 2
        assert f"experiment {bad}: not valid JSON" in capsys.readouterr().err
    (tmp_path / "list.json").write_text("[1, 2]")
    assert main(["run", str(tmp_path / "list.json")]) == 2
    assert "not a Chaos Toolkit experiment" in capsys.readouterr().err
    assert main(["report", str(bad)]) == 2
    assert "is not a readable Chaos Toolkit journal: JSONDecodeError" in capsys.readouterr().err


def test_exit_codes_of_bad_input(capsys):
    assert main(["run", "no_such_drill"]) == 2
    assert "unknown drill 'no_such_drill'" in capsys.readouterr().err
    assert main(["report", "/nonexistent/journal.json"]) == 2
    assert main(["cleanup", "--timeout", "-1"]) == 2
    assert main(["lab", "status", "--lab-dir", "/nonexistent/lab"]) == 3


def test_run_passes_chaos_toolkits_own_options_through(tmp_path, monkeypatch, capsys):
    """The seam between the runner and Chaos Toolkit is the `chaos` command: a stand-in records its argv."""
    seen = tmp_path / "argv.txt"
    stand_in = tmp_path / "chaos"
    stand_in.write_text(f"#!{sys.executable}\nimport sys\nopen({str(seen)!r}, 'w').write(chr(10).join(sys.argv[1:]))\n")
    stand_in.chmod(0o755)
    monkeypatch.setattr("chaosaitrapp.suite.chaos_executable", lambda: str(stand_in))
    settings, var_file = tmp_path / "settings.yaml", tmp_path / "vars.json"
    settings.write_text("{}")
    var_file.write_text("{}")
    code = main(["run", "leader_lock", "--out", str(tmp_path / "out"), "--var", "wait_ready_timeout=20",
                 "--var-file", str(var_file), "--rollback-strategy", "always", "--hypothesis-strategy",
                 "continuously", "--settings", str(settings), "--dry", "activities"])
    argv = seen.read_text().split("\n")
    assert code == 1, "the stand-in wrote no journal: the drill is a FAIL, not a crash"
    assert argv[argv.index("--settings") + 1] == str(settings) and argv.index("--settings") < argv.index("run")
    after = argv[argv.index("run"):]
    for option, value in (("--var", "wait_ready_timeout=20"), ("--var-file", str(var_file)),
                          ("--rollback-strategy", "always"), ("--hypothesis-strategy", "continuously"),
                          ("--dry", "activities")):
        assert after[after.index(option) + 1] == value, (option, after)
    assert after[-1].endswith("leader_lock.json")


def test_validate_checks_offline_what_chaos_validate_lets_through(tmp_path, capsys):
    """A mistyped setting and an unknown dependency pass `chaos validate`; `aitrapp-chaos validate` refuses them
    without touching any target (none is running here), and passes every bundled drill."""
    experiment = json.loads((ROOT / "experiments" / "leader_lock.json").read_text())
    experiment["configuration"]["heartbeat_mx"] = 3
    stop = next(a for a in experiment["method"] if "dependency" in a["provider"].get("arguments", {}))
    stop["provider"]["arguments"]["dependency"] = "rediss"
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps(experiment))
    assert main(["validate", str(typo)]) == 2
    out = capsys.readouterr().out
    assert "typo: invalid" in out and "did you mean 'heartbeat_max'" in out and "got 'rediss'" in out, out
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert out.count(": valid") == len(list((ROOT / "experiments").glob("*.json"))), out


def test_lab_up_without_the_lab_extra_says_what_to_install(monkeypatch, capsys, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "kiteconnect" else real(name, *a))
    assert main(["lab", "up", "--lab-dir", str(tmp_path / "lab")]) == 2
    err = capsys.readouterr().err
    assert "the lab needs kiteconnect" in err and "pip install 'chaostoolkit-aitrapp[lab]'" in err and "Traceback" not in err
    assert not (tmp_path / "lab" / "lab.json").exists(), "nothing was started"


def test_the_plugin_imports_no_command_until_one_is_named():
    """Every `chaos` command (`chaos run` too) loads this group as a plugin: it must not import the lab's or a
    drill's code to do so."""
    loaded = subprocess.run([sys.executable, "-c", "import sys, chaosaitrapp.cli; print(' '.join(sorted(m for m in "
                             "sys.modules if m.startswith(('chaosaitrapp.cli.', 'chaosaitrapp.lab')))))"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert loaded == ["chaosaitrapp.cli.common"], loaded
    assert cli.get_command(click.Context(cli), "lab") is not None and "chaosaitrapp.cli.lab" in sys.modules
