"""Fuzz of the whole command line: hypothesis draws a command from the CLI's own command tree (so a command added
later is fuzzed too), option and argument values from hostile text (empty, NUL, controls and bidi marks, lone
surrogates as undecodable bytes in argv become, huge and negative numbers, impossible dates, unknown enum words,
missing paths, directories, binary, deeply nested and oddly encoded files) mixed with names that exist, and runs it
in-process through the real entry point (`cli.main.main`, with its top-level handler) against a copy of a small
generated estate.

Whatever is drawn, the outcome is an answer: exit 0, 1 (an error, one line naming it), 2 (a usage error) or 3
(validation errors); never a Python traceback, never the handler's "unexpected …, a bug" line, never a hang.

`serve` and `console` are left out (they listen until stopped: `test_serve_bad_options.py` checks serve's options;
the hang guard cannot interrupt a running server's event loop), and so are
the root's `--install-completion`/`--show-completion` (they edit the user's shell set-up). Bounded: a fixed number
of examples, and a hang guard per example far above any normal run.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer._click.core import Context
from typer.testing import CliRunner

from classic2arm.cli.main import app, main

EXAMPLES = 400
HANG_SECONDS = 60  # per example; a normal one takes well under a second
SKIPPED_COMMANDS = {("serve",), ("console",)}  # servers: they listen until stopped
SKIPPED_OPTIONS = {"--install-completion", "--show-completion"}
# Options whose value is a size of work: always given, and only small or out of range (a default or an in-range
# large value would make one example take minutes without testing anything more).
SCALE_OPTIONS = {"--vms", "--vnets"}
BUG_MARK = "a bug: re-run with --debug"
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-estate.yaml"


# --------------------------------------------------------------------------- the command tree


@dataclass(frozen=True)
class Param:
    opts: tuple[str, ...]  # empty for an argument
    annotation: Any
    is_flag: bool
    required: bool
    multiple: bool


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    params: tuple[Param, ...]


def _params(cmd: Any) -> tuple[Param, ...]:
    out = []
    for p in cmd.params:
        if set(p.opts) & SKIPPED_OPTIONS or "--help" in p.opts:
            continue
        desc = getattr(p, "type_descriptor", None)
        out.append(Param(opts=tuple(o for o in p.opts if o.startswith("--")) if p.param_type_name == "option"
                         else (), annotation=desc.annotation if desc is not None else str,
                         is_flag=bool(getattr(p, "is_flag", False)), required=bool(p.required),
                         multiple=bool(p.multiple or p.nargs == -1)))
    return tuple(out)


def command_tree() -> tuple[tuple[Param, ...], list[Command]]:
    """The root's options and every leaf command, as click sees them (lazy groups are loaded by asking)."""
    root = typer.main.get_command(app)
    leaves: list[Command] = []

    def walk(cmd: Any, path: tuple[str, ...], ctx: Context) -> None:
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                walk(sub, (*path, name), Context(sub, parent=ctx, info_name=name))
        elif path not in SKIPPED_COMMANDS:
            leaves.append(Command(path, _params(cmd)))

    walk(root, (), Context(root, info_name="classic2arm"))
    return _params(root), leaves


ROOT_PARAMS, COMMANDS = command_tree()


# --------------------------------------------------------------------------- running one command line


class Hung(BaseException):
    """Raised by the hang guard (a BaseException: the CLI's handler must not turn it into an error line)."""


@dataclass
class Outcome:
    argv: list[str]
    code: int
    stdout: str
    stderr: str

    def problem(self) -> str | None:
        text = self.stdout + self.stderr
        if "Traceback" in text:
            return "a traceback"
        if BUG_MARK in self.stderr:
            return "the handler's 'unexpected' (bug) line"
        if self.code not in (0, 1, 2, 3):
            return f"exit code {self.code}"
        if self.code == 2 and not self.stderr.strip() and "Usage:" in self.stdout:
            return None  # a group given no command: its help (typer's no_args_is_help)
        if self.code in (1, 2) and not self.stderr.strip():
            return f"exit {self.code} with nothing on stderr"
        return None


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Hung


def invoke(argv: list[str], cwd: Path) -> Outcome:
    """`classic2arm ARGV` through the real entry point, in this process, with stdin empty."""
    runner = CliRunner()
    old_argv, old_cwd = sys.argv, Path.cwd()
    old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    code = 0
    try:
        os.chdir(cwd)
        with runner.isolation(input="") as (out, err, _):
            sys.argv = ["classic2arm", *argv]
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Hung:
                pytest.fail(f"classic2arm {argv!r} did not finish within {HANG_SECONDS} s")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                sys.stdout.flush()
                sys.stderr.flush()
            stdout = out.getvalue().decode("utf-8", "replace")
            stderr = err.getvalue().decode("utf-8", "replace")
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        sys.argv = old_argv
        os.chdir(old_cwd)
    return Outcome(argv, code, stdout, stderr)


# --------------------------------------------------------------------------- the estate and hostile inputs


@dataclass(frozen=True)
class Estate:
    root: Path  # holds the generated database, the hostile files, and a directory per example
    db: Path
    names: tuple[str, ...]  # names, paths and ids that exist in the estate
    files: tuple[Path, ...]  # hostile files, relative to an example's directory


def _hostile_files(d: Path, snapshot: str) -> tuple[Path, ...]:
    d.mkdir()
    files = {
        "text.txt": b"hello\n",
        "empty": b"",
        "binary.dat": bytes(range(256)) * 8,
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "deep.yaml": b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 3000)),
        "flow.yaml": b"[" * 60_000 + b"]" * 60_000,
        "bignum.json": b"1" * 100_000,
        "rot13.xml": b'<?xml version="1.0" encoding="rot13"?>\n<NetworkConfiguration/>',
        "base64.xml": b'<?xml version="1.0" encoding="base64"?>\n<a/>',
        "bogus-codec.xml": b'<?xml version="1.0" encoding="no-such-codec"?>\n<a/>',
        "utf16.xml": '<?xml version="1.0" encoding="utf-16"?>\n<NetworkConfiguration/>'.encode("utf-16"),
        "latin1.yaml": "name: caf\xe9\n".encode("latin-1"),
        "billion.xml": b'<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                       b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                       b"<l>&c;</l>",
        "nul.yaml": b"subscription:\x00\n",
        "bad.pem": b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        "snapshot.json": snapshot.encode(),
        "bad-snapshot.json": snapshot.replace('"dnsName"', '"dns"').replace('"addressSpace"', '"space"').encode(),
        "list.json": b"[1, 2, 3]",
        "estate.json": b'{"subscription": {"id": 5}, "virtualNetworks": "nope"}',
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    (d / "a-directory").mkdir()
    shutil.copyfile(SAMPLE, d / SAMPLE.name)
    # Relative to an example's directory, which gets its own copy of them (a path may be drawn as an output file)
    return tuple(Path(d.name) / n for n in (*files, "a-directory", "missing/file", SAMPLE.name))


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    root = tmp_path_factory.mktemp("clifuzz")
    db = root / "estate.db"
    url = f"sqlite:///{db}"
    for argv in (["generate", "--vms", "20", "--seed", "1", "--blockers", "0.3", "--json"],
                 ["clock", "set", "2023-06-01"]):
        done = invoke(["--db", url, *argv], root)
        assert done.code == 0, done.stderr
    listed = invoke(["--db", url, "inventory", "--type", "all", "--json"], root)
    assert listed.code == 0, listed.stderr
    items = json.loads(listed.stdout)
    names = {v for i in items for k in ("name", "cloudService", "virtualNetwork", "id") if (v := i.get(k))}
    arm = invoke(["--db", url, "arm", "list", "--json"], root)
    names |= {v["id"] for v in json.loads(arm.stdout)["value"][:20]}
    names |= {f"vnet:{i['name']}" for i in items if i["type"].endswith("/virtualnetworks")}
    names |= {f"storage:{i['name']}" for i in items if i["type"].endswith("/storageaccounts")}
    names |= {f"deployment:{m[1]}/{m[2]}" for i in items
              if (m := re.search(r"/hostedservices/([^/]+)/deployments/([^/]+)", i["id"]))}
    vnet = min(n for n in names if n.startswith("vnet:"))
    snap = invoke(["--db", url, "snapshot", vnet, "--json"], root)
    assert snap.code == 0, snap.stderr
    with_subscription = invoke(["--db", url, "export", "--json"], root)
    names.add(json.loads(with_subscription.stdout)["subscription"]["id"])
    return Estate(root, db, tuple(sorted(names)), _hostile_files(root / "files", snap.stdout))


HOSTILE_TEXT = [
    "", " ", "\x00", "a\x00b", "\t", "\n", "\r\n", "\x1b[31mred", "\u202eevil", "\u200b", "\ufeff", "\udcff",
    "caf\u00e9", "\u212ay", "\U0001f600", "x" * 5000, "-", "--", "-x", "--no-such-option", "../../../etc/passwd",
    "/", ".", "C:\\Windows", "%s%n%x", "{}", "[]", "null", "[bold]markup[/bold]", "[/]", "'; DROP TABLE meta; --",
    "*", "?", "<a>", "&amp;", "a/b", "/subscriptions/", "a" * 64, "A" * 65, "all", "ALL", "real", "Real",
]
WORDS = [  # the words some options take, right or nearly
    "vnet", "deployment", "storage", "reserved-ip", "nsg", "route-table", "table", "tsv", "auto", "json", "yaml",
    "Started", "Stopped", "StoppedDeallocated", "NotPrepared", "Prepared", "Committed", "microsoft.classiccompute/"
    "virtualmachines", "Microsoft.Compute/virtualMachines", "West Europe", "westeurope", "Mars North",
    "Microsoft.ClassicCompute", "Microsoft.Network", "prepare", "commit", "validate", "abort", "InternalError",
]
DATES = [
    "2023-06-01", "2023-09-01T00:00:00Z", "2023-02-30", "2023-13-01", "2023-06-01T25:00", "0001-01-01",
    "9999-12-31T23:59:59", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "99999-01-01", "1e9", "-1",
    "2023-06-01T00:00:00+99:00", "now", "yesterday",
]
INTS = ["-1", "0", "1", "2", str(2**31), str(2**63), "9" * 25, "-" + "9" * 25, "1e3", "0x10", "1.5", "", " 1",
        "\u0661", "nan", "1_000", "+3"]
FLOATS = ["nan", "inf", "-inf", "1e309", "-0", "0.5", "1e-320", "", "0x1p3", "1_0", "NaN", "-1", "2", "9" * 400]
SMALL_OR_OUT_OF_RANGE = ["-1", "0", "1", "2", "1000001", str(2**63), "9" * 25, "", "x", "nan"]


def hostile_text(estate: Estate) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.sampled_from(WORDS), st.sampled_from(DATES),
                     st.sampled_from(estate.names), st.text(max_size=12),
                     st.sampled_from(estate.names).map(str.upper))


def paths(estate: Estate) -> st.SearchStrategy[str]:
    example_relative = ["", ".", "out", "out.yaml", "new-dir/out", "a-file.txt", "\x00", "-"]
    return st.one_of(st.sampled_from([str(p) for p in estate.files]), st.sampled_from(example_relative))


def db_urls(estate: Estate) -> st.SearchStrategy[str | None]:
    # None: the example's own copy of the estate (most examples: commands must get past the database)
    hostile = ["", "notaurl", "sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?cache=shared",
               "mysql://u:p@127.0.0.1/x", "postgresql://nobody@127.0.0.1:1/x", "sqlite:///missing/dir/x.db",
               "sqlite:///files/text.txt", "sqlite:///files/a-directory", "sqlite:///files/empty",
               "sqlite:///files/binary.dat", "sqlite:///new.db", "sqlite:///copy.db?mode=ro",
               "sqlite:///copy.db?immutable=1", "sqlite:///copy.db?mode=rwc&cache=private", "sqlite:///%zz",
               "sqlite:///\udcff.db", "\u202esqlite:///x.db"]
    return st.one_of(st.none(), st.none(), st.none(), st.none(), st.sampled_from(hostile))


def value_for(p: Param, estate: Estate) -> st.SearchStrategy[str]:
    annotation = p.annotation
    if getattr(annotation, "__origin__", None) is list:
        annotation = annotation.__args__[0]
    if set(p.opts) & SCALE_OPTIONS:
        return st.sampled_from(SMALL_OR_OUT_OF_RANGE)
    if annotation is int:
        return st.one_of(st.sampled_from(INTS), st.integers(-10, 10).map(str))
    if annotation is float:
        return st.sampled_from(FLOATS)
    if annotation is Path:
        return paths(estate)
    return hostile_text(estate)


@st.composite
def command_lines(draw: st.DrawFn, estate: Estate) -> list[str]:
    cmd = draw(st.sampled_from(COMMANDS))
    argv: list[str] = []
    url = draw(db_urls(estate))
    argv += ["--db", "sqlite:///copy.db" if url is None else url]
    if draw(st.integers(0, 9)) == 0:
        argv += ["--subscription", draw(hostile_text(estate))]
    argv += cmd.path
    positional: list[str] = []
    for p in cmd.params:
        if not (p.required or set(p.opts) & SCALE_OPTIONS or draw(st.booleans())):
            continue
        count = draw(st.integers(1, 2)) if p.multiple else 1
        if p.is_flag:
            argv.append(p.opts[0])
        elif p.opts:
            for _ in range(count):
                argv += [draw(st.sampled_from(p.opts)), draw(value_for(p, estate))]
        else:
            positional += [draw(value_for(p, estate)) for _ in range(count)]
    argv += positional
    extra = draw(st.integers(0, 19))
    if extra == 0:
        argv.append(draw(st.sampled_from(["--help", "--no-such-option", "extra-argument", "--json"])))
    elif extra == 1 and argv[-1:] and not argv[-1].startswith("-"):
        argv.pop()  # a value or argument missing
    return argv


_examples = itertools.count()


@contextmanager
def example_dir(estate: Estate) -> Iterator[Path]:
    """A fresh directory holding a copy of the estate's database and of the hostile files (commands write)."""
    d = estate.root / f"example-{next(_examples)}"
    d.mkdir()
    shutil.copyfile(estate.db, d / "copy.db")
    shutil.copytree(estate.root / "files", d / "files")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_the_command_tree_is_the_real_one() -> None:
    paths_ = {c.path for c in COMMANDS}
    assert {("clock", "show"), ("vnet", "prepare"), ("import",), ("generate",), ("fault", "set")} <= paths_
    assert not SKIPPED_COMMANDS & paths_ and len(paths_) > 40
    assert {"--db", "--subscription"} <= {o for p in ROOT_PARAMS for o in p.opts}


@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_no_command_line_gives_a_traceback(estate: Estate, data: st.DataObject) -> None:
    """One to three command lines in a row on one copy of the estate (what one did, e.g. a clock set to year
    9999, is what the next one works on)."""
    argvs = data.draw(st.lists(command_lines(estate), min_size=1, max_size=3), label="command lines")
    with example_dir(estate) as d:
        for argv in argvs:
            check(invoke(argv, d), d)


def check(outcome: Outcome, d: Path) -> None:
    problem = outcome.problem()
    if problem is not None:
        shown = invoke(["--debug", *outcome.argv], d) if BUG_MARK in outcome.stderr else outcome
        pytest.fail(f"classic2arm {outcome.argv!r}: {problem} (exit {outcome.code})\nstderr: {shown.stderr[-3000:]}"
                    f"\nstdout: {outcome.stdout[-500:]}")


FOUND = [  # what the fuzz found once, kept as plain cases
    ["vnet", "validate", "--no-wait", "\udcff"],  # an argument of bytes that aren't UTF-8 (lone surrogates)
    ["clock", "set", "--running", "9999-12-31T23:59:59-14:00"],  # OverflowError: year 10000 in UTC
    ["clock", "set", "0001-01-01T00:00:00+14:00"],
    ["demo", "--vms", "1", "--as-of", "now"],  # ValueError, after emptying the store
    ["generate", "--vms", "1", "--vnets", "65537"],  # ValueError: at most 65536 VNets fit in 10.0.0.0/8
    ["check", "vnet:vnet001", "--before", "{files}/list.json"],  # AttributeError: 'list' has no attribute 'get'
    ["check", "vnet:vnet001", "--before", "{files}/bad-snapshot.json"],  # KeyError halfway through
    ["export", "-o", "{files}/missing/x.yaml"],  # named the .tmp file beside it, not the directory missing
]


@pytest.mark.parametrize("argv", FOUND, ids=[ascii(a) for a in FOUND])
def test_what_the_fuzz_found(estate: Estate, argv: list[str]) -> None:
    with example_dir(estate) as d:
        outcome = invoke(["--db", "sqlite:///copy.db", *(a.format(files="files") for a in argv)], d)
        check(outcome, d)
        assert outcome.code in (1, 2)
        left = invoke(["--db", "sqlite:///copy.db", "inventory", "--summary", "--json"], d)
        assert json.loads(left.stdout)["total"] == 20  # the estate as it was: a refused command changed nothing
