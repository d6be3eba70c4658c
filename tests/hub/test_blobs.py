"""Blob stores: a local directory and a real S3-compatible server process."""

from __future__ import annotations

import hashlib

import boto3
import pytest

from hub.blobs import LocalBlobStore, S3BlobStore
from hub.errors import AttachmentMissing, BlobStoreError

DATA = b"weighbridge ticket 0042"
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request, tmp_path):
    if request.param == "local":
        return LocalBlobStore(tmp_path)

    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    )
    return S3BlobStore(bucket, "evidence/", client)


def test_put_then_get_round_trips(store):
    store.put(SHA, DATA, "text/plain")

    assert store.exists(SHA)
    assert store.get(SHA) == DATA


def test_missing_file_is_a_domain_error(store):
    other = hashlib.sha256(b"nothing").hexdigest()

    assert not store.exists(other)
    with pytest.raises(AttachmentMissing):
        store.get(other)


@pytest.mark.s3
def test_s3_errors_are_translated(s3_server, s3_bucket):
    client = s3_server.client(aws_secret_access_key="not-the-secret")
    store = S3BlobStore(s3_bucket, "", client)

    with pytest.raises(BlobStoreError) as err:
        store.put(SHA, DATA, "text/plain")

    assert err.value.extra["s3_code"] in {"SignatureDoesNotMatch", "AccessDenied"}
