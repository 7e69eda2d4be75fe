"""Exhibit references: each accepted file gets one, unique within its case.

The pattern is the force's (``config.exhibit_pattern``, default ``{initials}/{number}``): the
initials of the person who made the owner's statement (the producer, in court's terms) and a
number counted per initials within the case, so John Smith's files are JS/1, JS/2 and another
J. S.'s in the same case go on from JS/3. A reference is taken by a conditional put of an
:class:`Exhibit` claim before the evidence item is given it: two items can never share one, and
a crash between the two is repaired by the next attempt finding the claim that names its item.
References are given only once the producer's statement exists (the owner may upload first).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Optional

from pynamodb.exceptions import UpdateError

from chalicelib.base.config import Config
from chalicelib.base.store import condition_failed, put_once
from chalicelib.footage import custody
from chalicelib.footage.tables import ACCEPTED, EvidenceItem, Exhibit

MAX_ATTEMPTS = 20


def initials(name: Optional[str]) -> str:
    """"Jane Smith" → "JS"; "Zoë O'Brien-Ng" → "ZO"; one word → its first letter; none → "EX"."""
    folded = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[A-Za-z]+", folded.replace("'", ""))
    if not words:
        return "EX"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def assign(item: EvidenceItem, producer: Optional[str], *, config: Config, now: datetime) -> Optional[str]:
    """The item's exhibit reference, given now if it has none (None unless it is accepted)."""
    if item.exhibit_ref:
        return item.exhibit_ref
    if item.status != ACCEPTED or not item.case_ref:
        return None
    letters = initials(producer)
    stem = config.exhibit_pattern.format(initials=letters, number="#")
    for _ in range(MAX_ATTEMPTS):
        claims = [c for c in Exhibit.query(item.case_ref, consistent_read=True) if c.stem == stem]
        mine = next((c for c in claims if c.evidence_id == item.evidence_id), None)
        if mine is None:
            number = max((int(c.number) for c in claims), default=0) + 1
            claim = Exhibit(
                item.case_ref, config.exhibit_pattern.format(initials=letters, number=number),
                stem=stem, number=number, evidence_id=item.evidence_id, assigned_at=now,
            )
            if not put_once(claim, Exhibit.exhibit_ref) and claim.evidence_id != item.evidence_id:
                continue  # another item took this number first: count again
            mine = claim
        return _give(item, mine, now)
    raise RuntimeError(f"could not give {item.evidence_id} an exhibit reference")  # the caller's retry


def _give(item: EvidenceItem, claim: Exhibit, now: datetime) -> str:
    try:
        item.update(
            actions=[EvidenceItem.exhibit_ref.set(claim.exhibit_ref)],
            condition=EvidenceItem.exhibit_ref.does_not_exist(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)  # given meanwhile, by the same claim
    custody.record(
        item.evidence_id, custody.EXHIBIT_ASSIGNED, at=claim.assigned_at, actor=custody.SIGHTLINE, now=now,
        detail={"exhibit_ref": item.exhibit_ref, "case_ref": item.case_ref}, once="exhibit",
    )
    return item.exhibit_ref
