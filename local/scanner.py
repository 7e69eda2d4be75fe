"""The local stack's stand-in for GuardDuty Malware Protection for S3.

In AWS, GuardDuty scans every object created in the evidence bucket and tags it
``GuardDutyMalwareScanStatus`` = ``NO_THREATS_FOUND`` | ``THREATS_FOUND`` | ``UNSUPPORTED`` |
``ACCESS_DENIED`` | ``FAILED`` (infrastructure/sightline_infra/storage.py). Locally, the evidence
bucket's ObjectCreated notifications go to a second queue (``<prefix>-scan-local``, made by
``local/provision.py``) beside the ingest queue, and :class:`Scanner` reads it: each object
containing the EICAR anti-virus test string is tagged ``THREATS_FOUND``, every other one
``NO_THREATS_FOUND``, keeping the object's other tags as GuardDuty does. That is all it
recognises: it exists so that the refusal path (no download until the tag says clean; a threat
quarantines the item) runs end to end, not to detect malware.
"""
from __future__ import annotations

import json
import threading
import traceback
from typing import Any, Dict, Optional
from urllib.parse import unquote_plus

SCAN_TAG = "GuardDutyMalwareScanStatus"
# The EICAR test file (eicar.org), in two halves so this source file is not itself one.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CHUNK_BYTES = 1024 * 1024


def verdict(body: Any) -> str:
    """``THREATS_FOUND`` if the stream holds the EICAR string anywhere, else ``NO_THREATS_FOUND``."""
    tail = b""
    for chunk in iter(lambda: body.read(CHUNK_BYTES), b""):
        if EICAR in tail + chunk:
            return "THREATS_FOUND"
        tail = chunk[-(len(EICAR) - 1):]
    return "NO_THREATS_FOUND"


def scan_object(s3: Any, bucket: str, key: str, version_id: Optional[str] = None) -> str:
    """Scan one object version and tag it with the verdict, as GuardDuty would."""
    where: Dict[str, str] = {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
    result = verdict(s3.get_object(**where)["Body"])
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(**where).get("TagSet", [])}
    tags[SCAN_TAG] = result
    s3.put_object_tagging(**where, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return result


def scan_notification(s3: Any, body: str) -> None:
    """One S3 notification (a queue message's body): every created object in it, scanned."""
    for record in json.loads(body).get("Records", []):  # s3:TestEvent has none
        if str(record.get("eventName", "")).startswith("ObjectCreated"):
            obj = record["s3"]["object"]
            scan_object(s3, record["s3"]["bucket"]["name"], unquote_plus(obj["key"]), obj.get("versionId"))


class Scanner:
    """Reads the local scan queue until ``stopping`` is set; a failed message is retried."""

    def __init__(self, s3: Any, sqs: Any, queue_url: str, stopping: threading.Event):
        self.s3, self.sqs, self.queue_url, self.stopping = s3, sqs, queue_url, stopping

    def scan_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                self.scan_once(wait_s=1)
            except Exception:  # noqa: BLE001 - the local stack keeps going; the message is retried
                traceback.print_exc()
                self.stopping.wait(1)

    def scan_once(self, wait_s: int = 0) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s
        ).get("Messages", [])
        for message in messages:
            scan_notification(self.s3, message["Body"])
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)
