"""Stand-in server fixtures until the shared ones in tests/conftest.py are merged.

They start a real PostgreSQL cluster (initdb/pg_ctl on a free loopback port) and a
real S3-compatible server process (moto_server), with the same fixture names and
shapes as the shared fixtures, so switching is deleting this module's import.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    matches = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return matches[-1] if matches else None


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the Debian package creates this user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_url():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        unavailable("PostgreSQL binaries not found; run scripts/setup.sh")

    root = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    os.chmod(root, 0o777)
    data, port, password = root / "data", free_port(), secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password)
    os.chmod(pwfile, 0o644)
    subprocess.run(
        _as_postgres(
            [
                initdb,
                "-D",
                str(data),
                "-U",
                "cocoa",
                "--pwfile",
                str(pwfile),
                "-A",
                "scram-sha-256",
            ]
        ),
        check=True,
        capture_output=True,
    )
    opts = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"
    started = subprocess.run(
        _as_postgres(
            [
                pg_ctl,
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ]
        ),
        capture_output=True,
    )
    if started.returncode:
        unavailable(f"PostgreSQL did not start: {(root / 'log').read_text()[-800:]}")

    yield f"postgresql+psycopg2://cocoa:{password}@127.0.0.1:{port}/postgres"
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
        capture_output=True,
    )
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url_fresh(postgres_url):
    import sqlalchemy as sa

    name = "t_" + secrets.token_hex(6)
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    region: str
    backend: str

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    exe = Path(sys.executable).with_name("moto_server")
    if not exe.exists():
        unavailable("no S3 server: install moto[server] or merge the shared fixtures")

    port = free_port()
    log = (tmp_path_factory.mktemp("s3") / "moto.log").open("w")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        log.close()
        unavailable("moto_server did not open its port")

    yield S3Server(
        endpoint,
        "test-" + secrets.token_hex(4),
        secrets.token_hex(16),
        "us-east-1",
        "moto",
    )
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture
def s3_bucket(s3_server):
    import boto3

    bucket = "t-" + secrets.token_hex(6)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        region_name=s3_server.region,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
    )
    client.create_bucket(Bucket=bucket)
    return bucket
