"""A real PostgreSQL server for the tests: Debian's (installed by `make test-deps`), in a
cluster of its own on a free loopback port, started and stopped by the tests."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import free_port


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    path = Path(found[-1]).parent if found else (Path(shutil.which("pg_ctl") or "").parent)
    assert (path / "pg_ctl").exists(), "Debian's postgresql is installed by `make test-deps`"
    return path


class PostgresServer:
    """`url` is a SQLAlchemy URL of an empty database. PostgreSQL refuses to run as root, so
    under root the cluster belongs to Debian's `postgres` user, in a folder of its own outside
    pytest's (root-only) temporary folders."""

    def __init__(self):
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
        self.data, self.port = self.root / "data", free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "rag", "--auth=trust", "-E", "UTF8",
                  "--no-instructions")
        self.url = f"postgresql+psycopg://rag@127.0.0.1:{self.port}/rag"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bindir / tool), *args], check=True,
                       capture_output=True, text=True, timeout=120)

    def start(self) -> "PostgresServer":
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "start")
        return self

    def create_database(self, name: str = "rag") -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "rag", name)
        return f"postgresql+psycopg://rag@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)
