"""Content-addressed file storage: a local directory or an S3 bucket."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from hub.errors import AttachmentMissing, BlobStoreError, ConfigError
from hub.private import FILE_MODE, private_dir


def blob_key(sha256: str) -> str:
    """Fan out by the first two bytes so no directory or prefix grows too large."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobStore(Protocol):
    """Where attachment files live, addressed by the sha256 of their bytes."""

    def exists(self, sha256: str) -> bool: ...

    def put(self, sha256: str, data: bytes, media_type: str) -> str: ...

    def get(self, sha256: str) -> bytes: ...


class LocalBlobStore:
    """Files under a directory; for a single hub or a demo."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def put(self, sha256: str, data: bytes, media_type: str) -> str:
        path = self._path(sha256)
        private_dir(path.parent)
        # Write then rename: a reader never sees half a file under its final name.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return blob_key(sha256)

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise AttachmentMissing(f"no file with sha256 {sha256}") from None


class S3BlobStore:
    """Objects in an S3 bucket (or any S3-compatible server via AWS_ENDPOINT_URL)."""

    def __init__(self, bucket: str, prefix: str = "", client=None):
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3")

    def _key(self, sha256: str) -> str:
        return self.prefix + blob_key(sha256)

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if _status(exc) == 404:
                return False
            raise _translate(exc, "head") from None
        except BotoCoreError as exc:
            raise _unreachable(exc) from None

        return True

    def put(self, sha256: str, data: bytes, media_type: str) -> str:
        key = self._key(sha256)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=media_type,
                ChecksumAlgorithm="SHA256",
                Metadata={"sha256": sha256},
            )
        except ClientError as exc:
            raise _translate(exc, "put") from None
        except BotoCoreError as exc:
            raise _unreachable(exc) from None

        return key

    def get(self, sha256: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
            data = obj["Body"].read()
        except ClientError as exc:
            if _status(exc) == 404:
                raise AttachmentMissing(f"no file with sha256 {sha256}") from None
            raise _translate(exc, "get") from None
        except BotoCoreError as exc:
            raise _unreachable(exc) from None

        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobStoreError(f"stored object {sha256} no longer matches its hash")
        return data


def _status(exc) -> int:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def _translate(exc, action: str) -> BlobStoreError:
    code = exc.response.get("Error", {}).get("Code", "unknown")
    return BlobStoreError(f"S3 {action} failed: {code}", s3_code=code)


def _unreachable(exc: BotoCoreError) -> BlobStoreError:
    return BlobStoreError(f"S3 is unreachable: {type(exc).__name__}")


def from_url(url: str) -> BlobStore:
    """`local:<dir>` or `s3://bucket[/prefix]`, as COCOA_HUB_BLOBS gives it."""
    if url.startswith("local:"):
        return LocalBlobStore(Path(url.removeprefix("local:")))

    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return S3BlobStore(bucket, prefix.rstrip("/") + "/" if prefix else "")

    raise ConfigError(
        f"COCOA_HUB_BLOBS must be local:<dir> or s3://bucket, got {url!r}"
    )
