import hashlib

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.s3

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def test_object_put_head_get_delete_round_trip(s3_server, s3_bucket):
    client = s3_server.client()

    client.put_object(
        Bucket=s3_bucket, Key="lots/L-1/photo.png", Body=PHOTO, ContentType="image/png"
    )
    head = client.head_object(Bucket=s3_bucket, Key="lots/L-1/photo.png")
    body = client.get_object(Bucket=s3_bucket, Key="lots/L-1/photo.png")["Body"].read()
    client.delete_object(Bucket=s3_bucket, Key="lots/L-1/photo.png")
    listed = client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])

    assert head["ContentLength"] == len(PHOTO)
    assert head["ContentType"] == "image/png"
    assert head["ETag"].strip('"') == hashlib.md5(PHOTO).hexdigest()
    assert body == PHOTO
    assert listed == []


def test_missing_object_is_a_404(s3_server, s3_bucket):
    client = s3_server.client()

    with pytest.raises(ClientError) as caught:
        client.head_object(Bucket=s3_bucket, Key="nope")

    assert caught.value.response["Error"]["Code"] in {"404", "NoSuchKey"}


def test_each_test_gets_an_empty_bucket(s3_server, s3_bucket):
    listed = s3_server.client().list_objects_v2(Bucket=s3_bucket)

    assert s3_bucket.startswith("test-")
    assert listed["KeyCount"] == 0


def test_server_is_on_loopback_with_generated_keys(s3_server):
    env = s3_server.env()

    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert len(env["AWS_ACCESS_KEY_ID"]) == 20
    assert len(env["AWS_SECRET_ACCESS_KEY"]) == 40


def test_wrong_secret_is_refused(s3_server, s3_bucket):
    if s3_server.backend == "moto":
        pytest.skip("moto_server accepts any signature; SeaweedFS checks them")

    client = s3_server.client(aws_secret_access_key="0" * 40)

    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket=s3_bucket, Key="intruder.txt", Body=b"x")

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
