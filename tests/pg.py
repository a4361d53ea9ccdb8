"""Throwaway PostgreSQL clusters for tests: initdb into a temporary directory, start on a free port,
create databases, stop and remove. No dependency beyond the server binaries and psycopg.

PostgreSQL refuses to run as root; when we are root the server tools run as an unprivileged user
(`nobody`, or $CLASSIC2ARM_PG_USER) that owns the cluster directory.

Command line (for tests that spawn server processes against a cluster they do not own):

    python tests/pg.py start DIR           # prints the URL of the `postgres` database
    python tests/pg.py createdb DIR NAME   # prints the URL of a new database
    python tests/pg.py stop DIR            # stops the server and removes DIR
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("initdb", "pg_ctl", "postgres")
STATE_FILE = "cluster.json"
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (the only reason a test may skip)."""


def _has_tools(bindir: str | Path) -> bool:
    return all(os.access(Path(bindir, t), os.X_OK) for t in TOOLS)


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_bindir() -> Path:
    """Directory holding initdb, pg_ctl and postgres; raises PostgresUnavailable if there is none."""
    candidates: list[str] = []
    if env := os.environ.get("CLASSIC2ARM_PG_BINDIR"):
        candidates.append(env)
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).resolve().parent))
        candidates.append(str(Path(initdb).parent))
    for c in candidates:
        if c and _has_tools(c):
            return Path(c)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found via $CLASSIC2ARM_PG_BINDIR, "
        "`pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH; install e.g. `postgresql` to run these tests")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The unprivileged user to run the server tools as, or None if we are not root."""
    if os.geteuid() != 0:
        return None
    return os.environ.get("CLASSIC2ARM_PG_USER", "nobody")


@dataclass
class PgCluster:
    base: Path  # holds data/, sock/, postgres.log and cluster.json
    bindir: Path
    port: int
    user: str | None  # OS user the server runs as (None: ourselves)
    sock: Path | None = None  # unix socket directory (inside base unless base's path is too long)
    start_seconds: float = 0.0

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls, base: str | Path | None = None, *, bindir: Path | None = None) -> PgCluster:
        """initdb + start a new cluster in `base` (a fresh temporary directory if None)."""
        bindir = bindir or find_bindir()
        t0 = time.monotonic()
        if base is None:
            base = Path(tempfile.mkdtemp(prefix="c2a-pg-"))
        base = Path(base).absolute()
        base.mkdir(parents=True, exist_ok=True)
        if any(base.iterdir()):
            raise RuntimeError(f"{base} is not empty; refusing to create a cluster there")
        user = _run_as()
        cluster = cls(base=base, bindir=bindir, port=0, user=user)
        if user is not None:
            pw = pwd.getpwnam(user)
            os.chown(base, pw.pw_uid, pw.pw_gid)
            os.chmod(base, 0o700)
            cluster._check_access()
        cluster._run("initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "--no-sync",
                     "-E", "UTF8", "--locale=C")
        sock = cluster.sock = cluster._socket_dir()
        last_error: Exception | None = None
        for _attempt in range(3):  # the free port may be taken between probing and binding
            cluster.port = free_port()
            opts = (f"-k {sock} -p {cluster.port} -c listen_addresses='127.0.0.1' -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                cluster._run("pg_ctl", "-D", str(cluster.data), "-l", str(cluster.log), "-o", opts,
                             "-t", str(START_TIMEOUT), "-w", "start")
                break
            except RuntimeError as exc:
                last_error = exc
                if "already in use" not in cluster._log_tail():
                    raise
        else:
            raise RuntimeError(f"could not start PostgreSQL on a free port: {last_error}")
        cluster.start_seconds = time.monotonic() - t0
        (base / STATE_FILE).write_text(json.dumps(
            {"bindir": str(bindir), "port": cluster.port, "user": user, "sock": str(sock)}))
        return cluster

    @classmethod
    def attach(cls, base: str | Path) -> PgCluster:
        """The cluster a previous `start` (maybe in another process) left in `base`."""
        base = Path(base).absolute()
        state = json.loads((base / STATE_FILE).read_text())
        return cls(base=base, bindir=Path(state["bindir"]), port=int(state["port"]), user=state["user"],
                   sock=Path(state["sock"]))

    def stop(self) -> None:
        """Stop the server immediately and remove the cluster directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (RuntimeError, OSError):
            self._kill_postmaster()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            if self.sock is not None:
                shutil.rmtree(self.sock, ignore_errors=True)

    # ------------------------------------------------------------------ databases
    def connect(self, dbname: str = "postgres"):  # -> psycopg.Connection
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
                               autocommit=True, connect_timeout=10)

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name` (any string; it is quoted) and return its URL."""
        from psycopg import sql

        if len(name.encode()) > 63 or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise ValueError(f"database name must be 1-63 characters of [A-Za-z0-9_]: {name!r}")
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    # ------------------------------------------------------------------ internals
    def _socket_dir(self) -> Path:
        sock = self.base / "sock"
        if len(str(sock)) > 80:  # unix socket paths are limited to ~107 bytes including the file name
            sock = Path(tempfile.mkdtemp(prefix="c2a-pgs-"))
        sock.mkdir(exist_ok=True)
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(sock, pw.pw_uid, pw.pw_gid)
        return sock

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", HOME=str(self.base))
        kwargs: dict = {}
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        res = subprocess.run(cmd, cwd=self.base, env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=START_TIMEOUT + 30, check=False, **kwargs)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed with exit code {res.returncode}"
                               f"{' (as user ' + self.user + ')' if self.user else ''}:\n"
                               f"{res.stdout}{res.stderr}{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n--- postgres.log ---\n" + "\n".join(self.log.read_text().splitlines()[-20:])
        except OSError:
            return ""

    def _check_access(self) -> None:
        """As root, fail early (and clearly) if the server user cannot reach the cluster directory."""
        assert self.user is not None
        pw = pwd.getpwnam(self.user)
        probe = subprocess.run(["/bin/sh", "-c", 'test -w "$1" && test -x "$1"', "sh", str(self.base)],
                               user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], check=False,
                               capture_output=True)
        if probe.returncode != 0:
            raise RuntimeError(f"running as root, so PostgreSQL runs as {self.user!r}, which cannot write "
                               f"{self.base} (a parent directory is not searchable); use a directory "
                               "under /tmp or set TMPDIR")

    def _kill_postmaster(self) -> None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.1)


def main(argv: list[str]) -> int:
    usage = "usage: python tests/pg.py start DIR | createdb DIR NAME | stop DIR"
    if len(argv) < 2:
        print(usage, file=sys.stderr)
        return 2
    cmd, base = argv[0], argv[1]
    try:
        if cmd == "start" and len(argv) == 2:
            cluster = PgCluster.start(base)
            print(cluster.url())
            print(f"started in {cluster.start_seconds:.2f}s", file=sys.stderr)
        elif cmd == "createdb" and len(argv) == 3:
            print(PgCluster.attach(base).create_database(argv[2]))
        elif cmd == "stop" and len(argv) == 2:
            PgCluster.attach(base).stop()
        else:
            print(usage, file=sys.stderr)
            return 2
    except PostgresUnavailable as exc:
        print(f"PostgreSQL unavailable: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
