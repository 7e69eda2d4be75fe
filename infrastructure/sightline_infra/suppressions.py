"""Checkov findings we accept, each with its reason, written next to the resource.

The reasons end up in the template's ``Metadata.checkov.skip`` so a reviewer sees them both
in the code and in what CloudFormation receives.
"""
from __future__ import annotations

from typing import Dict

from aws_cdk import CfnResource


def skip_checks(resource: CfnResource, reasons: Dict[str, str]) -> None:
    existing = (resource.get_metadata("checkov") or {}).get("skip", [])
    for check_id, reason in reasons.items():
        if not reason.strip():
            raise ValueError(f"{check_id}: a suppression needs a reason")
        existing.append({"id": check_id, "comment": reason})
    resource.add_metadata("checkov", {"skip": existing})
