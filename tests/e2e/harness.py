"""Real hub and edge processes for the end-to-end tests, driven by their CLIs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from tests.support.servers import ServerProcess, free_port

HUB_CLI = [sys.executable, "-m", "hub.cli"]
EDGE_CLI = [sys.executable, "-m", "edge.cli"]
CLI_TIMEOUT_S = 300
PASSWORD = "correct horse battery"


class CommandFailed(AssertionError):
    """A CLI command a test relied on did not succeed."""


def _run(argv: list[str], env: dict, check: bool) -> subprocess.CompletedProcess:
    done = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    if check and done.returncode != 0:
        raise CommandFailed(
            f"{' '.join(argv[2:])} exited {done.returncode}:\n"
            f"{done.stdout}\n{done.stderr}"
        )

    return done


@dataclass
class Processes:
    """Servers a test (or a module) started, stopped in reverse order at the end."""

    started: list[ServerProcess] = field(default_factory=list)

    def start(self, server: ServerProcess, timeout: float = 60.0) -> ServerProcess:
        self.started.append(server)
        return server.start(timeout)

    def stop_all(self) -> None:
        for server in reversed(self.started):
            server.stop()


@dataclass
class Hub:
    """A hub home with its database, blob store and a `cocoa-hub serve` process."""

    home: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    server: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "COCOA_HUB_HOME": str(self.home),
            "COCOA_HUB_DATABASE_URL": self.database_url,
            "COCOA_HUB_PUBLIC_URL": self.url,
            "COCOA_HUB_SECRET_KEY": "e2e secret, not for production",
            "COCOA_HUB_LEDGER_INTERVAL": "1",
            **self.extra_env,
        }

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run([*HUB_CLI, *args], self.env, check)

    def out(self, *args: str) -> str:
        """Run a command that must succeed and return its standard output."""
        return self.cli(*args).stdout.strip()

    def setup(self) -> None:
        """Migrate and create a cooperative, a manufacturer and their users."""
        self.out("db", "upgrade")
        self.out(
            "create-org",
            "coop-soubre",
            "--name",
            "Coopérative de Soubré",
            "--kind",
            "cooperative",
            "--location",
            "Soubré",
        )
        self.out(
            "create-org",
            "choco-abidjan",
            "--name",
            "Choco Abidjan",
            "--kind",
            "manufacturer",
        )
        password = self.home / "password"
        password.write_text(PASSWORD)
        for user, role, org in (
            ("awa", "cooperative", "coop-soubre"),
            ("kofi", "manufacturer", "choco-abidjan"),
        ):
            self.out(
                "create-user",
                user,
                "--role",
                role,
                "--org",
                org,
                "--password-file",
                str(password),
            )

    def enroll_token(self, org: str = "coop-soubre") -> str:
        return self.out("enroll-token", "--org", org, "--role", "cooperative")

    def start(self, processes: Processes) -> Hub:
        self.server = ServerProcess(
            name="hub",
            argv=[*HUB_CLI, "serve", "--port", str(self.port)],
            log_path=self.home / "hub.log",
            env=self.env,
            ready_url=self.url + "/healthz",
        )
        processes.start(self.server)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def kill(self) -> None:
        """SIGKILL the hub, as a power cut or an OOM kill would."""
        if self.server is not None:
            self.server.kill()

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.database_url)

    def query(self, sql: str, **params) -> list[sa.Row]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        finally:
            engine.dispose()


@dataclass
class Edge:
    """A device home (tablet or gateway) driven through `cocoa-edge`."""

    home: Path
    label: str
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    server: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "COCOA_EDGE_HOME": str(self.home),
            "COCOA_EDGE_PORT": str(self.port),
            "COCOA_EDGE_SCHEDULER": "0",
            # A refused connection fails at once; a dead upstream need not be waited on.
            "COCOA_EDGE_CONNECT_TIMEOUT": "3",
            **self.extra_env,
        }

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run([*EDGE_CLI, *args], self.env, check)

    def init(self) -> Edge:
        self.cli("init", "--label", self.label)
        return self

    def enroll(self, upstream: str, token: str, kind: str = "tablet") -> None:
        self.cli("enroll", "--hub", upstream, "--token", token, "--kind", kind)

    def sync(self, upstream: str | None = None) -> subprocess.CompletedProcess:
        """One `cocoa-edge sync`; its exit code says whether it succeeded."""
        extra = ["--upstream", upstream] if upstream else []
        return self.cli("sync", *extra, check=False)

    def serve(self, processes: Processes) -> Edge:
        self.server = ServerProcess(
            name=f"edge {self.label}",
            argv=[*EDGE_CLI, "serve", "--no-scheduler", "--port", str(self.port)],
            log_path=self.home.parent / f"{self.home.name}.log",
            env=self.env,
            ready_url=self.url + "/",
        )
        processes.start(self.server)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.home / "edge.sqlite3")

    def rows(self, sql: str, *params) -> list[tuple]:
        conn = self.db()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def journal(self) -> list[tuple[int, str, bytes, bytes, str]]:
        """This device's own records: seq, id, raw, signature, state."""
        return self.rows(
            "SELECT seq, id, raw, signature, state FROM journal ORDER BY seq"
        )

    def append_farmers(self, count: int, start: int = 1) -> None:
        """Sign `count` farmer records in this process, in one transaction (fast)."""
        from edge import journal
        from edge.config import EdgeConfig
        from edge.context import EdgeContext

        ctx = EdgeContext.open(EdgeConfig.from_env({"COCOA_EDGE_HOME": str(self.home)}))
        try:
            with ctx.transaction() as session:
                for n in range(start, start + count):
                    body = {"id": f"E2E-{n:05d}", "name": f"Farmer {n}"}
                    journal.append(session, ctx.key, "farmer", body)
        finally:
            ctx.engine.dispose()

    def device_id(self) -> str:
        """The enrolled device's id, read from its database (no CLI start-up)."""
        ((device,),) = self.rows("SELECT device_id FROM enrollment")
        return device
