"""``dms init`` (compose's one-shot init service) creates the bucket and the index."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from dms.cli import cli
from dms.testing.seaweed import SeaweedS3


@pytest.mark.s3
def test_dms_init_creates_the_bucket_and_the_index(
        tmp_path: Path, seaweed_s3: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"DMS_DATA_DIR": str(tmp_path / "var"), "DMS_OBJECT_STORE": "s3",
           "DMS_S3_ENDPOINT_URL": seaweed_s3.endpoint_url, "DMS_S3_BUCKET": "init-made",
           "DMS_S3_ACCESS_KEY": seaweed_s3.access_key,
           "DMS_S3_SECRET_KEY": seaweed_s3.secret_key}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    client = boto3.client("s3", endpoint_url=seaweed_s3.endpoint_url, region_name="us-east-1",
                          aws_access_key_id=seaweed_s3.access_key,
                          aws_secret_access_key=seaweed_s3.secret_key)
    assert "init-made" not in {b["Name"] for b in client.list_buckets()["Buckets"]}
    for _ in range(2):  # safe to run again
        out = CliRunner().invoke(cli, ["init"])
        assert out.exit_code == 0, out.output
        assert "S3ObjectStore ok" in out.output and "TantivyIndex ok, 0 pages" in out.output
    assert "init-made" in {b["Name"] for b in client.list_buckets()["Buckets"]}
    assert (tmp_path / "var" / "index").is_dir()
