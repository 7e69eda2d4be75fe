#!/usr/bin/env python3
"""Publish ``site/`` and ``console/`` to their deployed buckets, write each one's ``config.js``
from the stack's outputs, and invalidate their CloudFront distributions. Run by ``make deploy`` after ``cdk deploy``:

    python infrastructure/publish_site.py --outputs infrastructure/cdk.out/outputs.json

Its pages are rendered from ``templates/pages/site/`` and committed; publishing refuses a
``site/`` page that differs from its rendering (``make deploy`` renders them first).

The site is published from here rather than by a CDK BucketDeployment, which would add a
Lambda function (and its broad S3 permissions) to the stack for a job done once per deploy.
"""
from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

REPO = Path(__file__).resolve().parents[1]
# Never published: the local example settings (config.js is generated) and source maps.
_SKIP = {"config.example.js", "config.js"}
_NO_CACHE = {".html", ".js", ".css"}


def stack_outputs(path: Path) -> Dict[str, str]:
    """The one stack's outputs from ``cdk deploy --outputs-file``."""
    outputs = json.loads(path.read_text())
    (stack,) = outputs.values()
    return stack


def config_js(site_config: str) -> bytes:
    json.loads(site_config)  # refuse anything that is not plain JSON
    return f"/* Written by infrastructure/publish_site.py at deploy time. */\nwindow.SIGHTLINE_CONFIG = {site_config};\n".encode()


def site_files(site_dir: Path) -> Iterable[Path]:
    for path in sorted(site_dir.rglob("*")):
        if path.is_file() and path.name not in _SKIP and not path.name.endswith(".map"):
            yield path


def publish(outputs: Dict[str, str], site_dir: Path, s3: Any, cloudfront: Any) -> Dict[str, Any]:
    """The residents' site."""
    return publish_app(outputs["SiteBucketName"], outputs["DistributionId"], outputs["SiteConfig"], site_dir, s3, cloudfront)


def publish_console(outputs: Dict[str, str], console_dir: Path, s3: Any, cloudfront: Any) -> Dict[str, Any]:
    """The officers' console."""
    return publish_app(outputs["ConsoleBucketName"], outputs["ConsoleDistributionId"], outputs["ConsoleConfig"],
                       console_dir, s3, cloudfront)


def publish_app(bucket: str, distribution_id: str, app_config: str, app_dir: Path, s3: Any, cloudfront: Any) -> Dict[str, Any]:
    """Every file of ``app_dir``, its ``config.js``, the bucket's other objects deleted, and the
    distribution invalidated."""
    published = set()

    def put(key: str, body: bytes, content_type: str) -> None:
        cache = "no-cache" if Path(key).suffix in _NO_CACHE else "public, max-age=86400"
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl=cache)
        published.add(key)

    for path in site_files(app_dir):
        key = path.relative_to(app_dir).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        put(key, path.read_bytes(), content_type)
    put("config.js", config_js(app_config), "application/javascript; charset=utf-8")

    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [{"Key": o["Key"]} for o in page.get("Contents", []) if o["Key"] not in published]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[start:start + 1000], "Quiet": True})

    invalidation = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"publish-{time.time_ns()}"},
    )
    return {"published": sorted(published), "deleted": [o["Key"] for o in stale],
            "invalidation": invalidation["Invalidation"]["Id"]}


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outputs", type=Path, required=True, help="cdk deploy --outputs-file")
    parser.add_argument("--site-dir", type=Path, default=REPO / "site")
    parser.add_argument("--console-dir", type=Path, default=REPO / "console")
    args = parser.parse_args(argv)
    import boto3

    sys.path.insert(0, str(REPO))
    from tools.build_pages import stale_pages

    stale = [p for p in stale_pages() if p.parent in (args.site_dir.resolve(), args.console_dir.resolve())]
    if stale:
        raise SystemExit(f"not published: {', '.join(p.name for p in stale)} differ from templates/pages/; run make pages")

    outputs = stack_outputs(args.outputs)
    s3, cloudfront = boto3.client("s3"), boto3.client("cloudfront")
    for name, result in (
        ("site", publish(outputs, args.site_dir, s3, cloudfront)),
        ("console", publish_console(outputs, args.console_dir, s3, cloudfront)),
    ):
        print(f"{name}: published {len(result['published'])} files, deleted {len(result['deleted'])}, "
              f"CloudFront invalidation {result['invalidation']}")

if __name__ == "__main__":
    main()
