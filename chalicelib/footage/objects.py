"""Where owners' uploads are kept in the evidence bucket: keys the server chooses, and the
file names shown for them (a name is shown, never trusted)."""
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
