"""Where owners' uploads are kept in the evidence bucket: keys the server chooses, the file
names shown for them (a name is shown, never trusted), and the neutral names they are
downloaded under."""
from __future__ import annotations

import re
import unicodedata
from typing import Dict

from chalicelib.base.ids import FOOTAGE_REQUEST, UPLOAD


def object_key(request_id: str, upload_id: str, filename: str) -> str:
    return f"requests/{request_id}/{upload_id}/{safe_filename(filename)}"


def parse_key(key: str) -> Dict[str, str]:
    """``{"request_id", "upload_id", "filename"}`` of a key this module made, or {}."""
    match = re.fullmatch(rf"requests/({FOOTAGE_REQUEST.pattern})/({UPLOAD.pattern})/([^/]{{1,200}})", key)
    if not match:
        return {}
    return {"request_id": match.group(1), "upload_id": match.group(2), "filename": match.group(3)}


def safe_filename(filename: str) -> str:
    """A key-safe version of the owner's file name (the name is shown, never trusted)."""
    name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(".-")
    return (name or "footage")[:120]


# The extension a downloaded file gets, by the type the ingest verified from its first bytes.
# Anything else (a DVR's own export, sent as application/octet-stream, whose bytes nothing
# checked) is downloaded as opaque bytes: ".bin", application/octet-stream.
EXTENSIONS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/x-msvideo": "avi",
    "video/avi": "avi",
    "video/3gpp": "3gp",
    "video/mpeg": "mpg",
    "video/x-ms-asf": "asf",
    "video/x-ms-wmv": "wmv",
    "video/x-matroska": "mkv",
    "video/webm": "webm",
    "video/mp2t": "ts",
    "image/jpeg": "jpg",
    "image/png": "png",
}
OPAQUE = ("bin", "application/octet-stream")


def download_name(evidence_id: str, content_type: str) -> str:
    """``<evidence id>.<extension of the verified type>``: nothing of the owner's file name."""
    return f"{evidence_id}.{EXTENSIONS.get(content_type, OPAQUE[0])}"


def download_type(content_type: str) -> str:
    return content_type if content_type in EXTENSIONS else OPAQUE[1]
