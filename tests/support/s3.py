"""Drive provisioning/local/s3.sh and hand out one fresh bucket per test."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from tests.support.servers import REPO_ROOT, ServerUnavailable

SCRIPT = REPO_ROOT / "provisioning" / "local" / "s3.sh"
# A cold SeaweedFS build takes minutes; setup.sh normally does it ahead of tests.
START_TIMEOUT_S = 1800


@dataclass(frozen=True)
class S3Server:
    """Where the local S3 server listens and the credentials it accepts."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str
    backend: str

    def env(self) -> dict[str, str]:
        """The AWS_* variables a child process (hub, CLI) needs to reach it."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def client(self, **overrides: Any) -> Any:
        """A boto3 S3 client for this server (path-style, checksums when required)."""
        options = {
            "endpoint_url": self.endpoint,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": self.region,
            "config": CLIENT_CONFIG,
        }
        return boto3.client("s3", **{**options, **overrides})


# Local servers have no per-bucket DNS names, and botocore's default CRC checksums
# on every request are newer than some S3-compatible servers.
CLIENT_CONFIG = Config(
    s3={"addressing_style": "path"},
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
    retries={"max_attempts": 3, "mode": "standard"},
)


def _run(command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def is_running() -> bool:
    """Tell whether the repo's local S3 server is up."""
    return _run("status").returncode == 0


def start() -> S3Server:
    """Start the local S3 server (if needed) and describe it."""
    started = _run("start", timeout=START_TIMEOUT_S)
    if started.returncode != 0:
        raise ServerUnavailable(f"s3.sh start failed:\n{started.stderr.strip()}")

    printed = _run("env")
    if printed.returncode != 0:
        raise ServerUnavailable(f"s3.sh env failed:\n{printed.stderr.strip()}")

    env = dict(line.split("=", 1) for line in printed.stdout.splitlines())
    return S3Server(
        endpoint=env["AWS_ENDPOINT_URL"],
        access_key=env["AWS_ACCESS_KEY_ID"],
        secret_key=env["AWS_SECRET_ACCESS_KEY"],
        region=env["AWS_DEFAULT_REGION"],
        backend=env["COCOA_S3_BACKEND"],
    )


def stop() -> None:
    """Stop the local S3 server."""
    _run("stop")


@contextmanager
def fresh_bucket(server: S3Server) -> Iterator[str]:
    """Create an empty bucket for one test, then empty and delete it."""
    client = server.client()
    name = f"test-{secrets.token_hex(6)}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        pages = client.get_paginator("list_object_versions").paginate(Bucket=name)
        for page in pages:
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                client.delete_object(
                    Bucket=name, Key=item["Key"], VersionId=item["VersionId"]
                )
        client.delete_bucket(Bucket=name)
