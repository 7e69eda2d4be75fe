"""``make deploy``'s last step: the site and its config.js go to the site bucket (on moto)."""
from __future__ import annotations

import json
import sys

from .conftest import INFRASTRUCTURE

sys.path.insert(0, str(INFRASTRUCTURE))

import publish_site  # noqa: E402


class FakeCloudFront:
    def __init__(self):
        self.invalidations = []

    def create_invalidation(self, **kwargs):
        self.invalidations.append(kwargs)
        return {"Invalidation": {"Id": "I1"}}


def test_publish_uploads_the_site_writes_config_and_removes_stale_files(tmp_path):
    import boto3
    from moto import mock_aws

    site = tmp_path / "site"
    (site / "js").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html>")
    (site / "js" / "api.js").write_text("//")
    (site / "config.example.js").write_text("local only")
    settings = {"apiUrl": "https://abc.execute-api.eu-west-2.amazonaws.com/api", "tileUrl": "", "forceName": "X"}
    outputs = {"SiteBucketName": "site-bucket", "DistributionId": "D1", "SiteConfig": json.dumps(settings)}
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(Bucket="site-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        s3.put_object(Bucket="site-bucket", Key="old.html", Body=b"gone")
        cloudfront = FakeCloudFront()

        result = publish_site.publish(outputs, site, s3, cloudfront)

        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site-bucket")["Contents"]}
        assert keys == {"index.html", "js/api.js", "config.js"}
        index = s3.get_object(Bucket="site-bucket", Key="index.html")
        assert index["ContentType"] == "text/html; charset=utf-8" and index["CacheControl"] == "no-cache"
        config = s3.get_object(Bucket="site-bucket", Key="config.js")["Body"].read().decode()
        assert json.loads(config.split("window.SIGHTLINE_CONFIG = ", 1)[1].rstrip(";\n")) == settings
    assert result["deleted"] == ["old.html"]
    assert cloudfront.invalidations[0]["DistributionId"] == "D1"


def test_stack_outputs_site_config_for_config_js(cfn):
    site_config = cfn["Outputs"]["SiteConfig"]["Value"]
    text = json.dumps(site_config)
    # The site reaches the API on its own origin (CloudFront routes /api/*).
    assert '\\"apiUrl\\":\\"/api\\"' in text and "Example Police" in text and "mapCenter" in text


def test_the_console_is_published_to_its_own_bucket_with_its_own_config(tmp_path):
    import boto3
    from moto import mock_aws

    console = tmp_path / "console"
    console.mkdir()
    (console / "index.html").write_text("<!doctype html>")
    settings = {"apiUrl": "/api", "cognitoEndpoint": "https://cognito-idp.eu-west-2.amazonaws.com", "userPoolClientId": "c"}
    outputs = {"ConsoleBucketName": "console-bucket", "ConsoleDistributionId": "D2", "ConsoleConfig": json.dumps(settings)}
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(Bucket="console-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        cloudfront = FakeCloudFront()
        publish_site.publish_console(outputs, console, s3, cloudfront)
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="console-bucket")["Contents"]}
        assert keys == {"index.html", "config.js"}
        config = s3.get_object(Bucket="console-bucket", Key="config.js")["Body"].read().decode()
        assert json.loads(config.split("window.SIGHTLINE_CONFIG = ", 1)[1].rstrip(";\n")) == settings
    assert cloudfront.invalidations[0]["DistributionId"] == "D2"


def test_stack_outputs_the_consoles_config(cfn):
    text = json.dumps(cfn["Outputs"]["ConsoleConfig"]["Value"])
    for key in ("apiUrl", "cognitoEndpoint", "userPoolClientId", "idleMinutes", "categories", "maxRegistrationsPerRequest", "timeZone"):
        assert key in text, key
    assert "https://cognito-idp." in text and '\\"apiUrl\\":\\"/api\\"' in text
    assert {"ConsoleUrl", "ConsoleBucketName", "ConsoleDistributionId"} <= set(cfn["Outputs"])
