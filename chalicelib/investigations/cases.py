"""Cases: officers work within the cases whose team they are on, and see nothing outside them.

A case is opened by the first search under its reference (the searching officer in charge) or
explicitly. Its officer in charge or a supervisor manages the team and closes it; a closed case
takes no new searches or requests. For anything outside an officer's cases the answer is the
same as for something that does not exist, except a search under another team's reference,
which says whom to ask (the officer typed the reference: they know the case exists).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from pynamodb.exceptions import UpdateError

from chalicelib.base import audit, clients
from chalicelib.base.audit import Action
from chalicelib.base.config import Config
from chalicelib.base.errors import Conflict, Forbidden, NotFound, ValidationError
from chalicelib.base.ids import CASE, iso
from chalicelib.base.officers import OFFICER, SUPERVISOR, Officer
from chalicelib.base.store import condition_failed, put_once
from chalicelib.base.validation import parse
from chalicelib.footage import requests
from chalicelib.footage.tables import ACCEPTED, EvidenceItem, FootageRequest
from chalicelib.investigations import retention
from chalicelib.investigations.schemas import CaseIn, CasePatch, TeamMemberIn
from chalicelib.investigations.tables import CLOSED, OPEN, Case, CaseMembership

NOT_YOURS = "There is no such case of yours."


def case_id_for(case_ref: str) -> str:
    """One case per reference, however it is spaced or capitalised."""
    return CASE.derived("case", " ".join(case_ref.split()).upper())


def find(case_ref: str) -> Optional[Case]:
    try:
        return Case.get(case_id_for(case_ref), consistent_read=True)
    except Case.DoesNotExist:
        return None


def is_on(case: Case, officer: Officer) -> bool:
    return officer.supervises or officer.username in (case.team or set())


def readable(case_ref: str, officer: Officer, missing: str = NOT_YOURS) -> Case:
    """The case, if the officer may see it; NotFound(missing) otherwise."""
    case = find(case_ref)
    if case is None or not is_on(case, officer):
        raise NotFound(missing)
    return case


def workable(case_ref: str, officer: Officer) -> Case:
    """The case, if the officer may search or ask for footage in it now."""
    return _open(readable(case_ref, officer))


def for_search(
    case_ref: str, officer: Officer, *, category: Optional[str], summary: Optional[str], config: Config, now: datetime
) -> Case:
    """The case a search is made in; a reference that is not a case yet opens one."""
    case = find(case_ref)
    if case is None:
        case = _create(case_ref, category, summary, officer, config, now)
    if not is_on(case, officer):
        raise Forbidden(
            f"Case {case.case_ref} is worked by {case.officer_in_charge}'s team. "
            "Ask them or a supervisor to add you to it.",
            {"case_ref": "You are not on this case's team."},
        )
    return _open(case)


def open_case(payload: Any, officer: Officer, *, config: Config, now: datetime) -> Dict[str, Any]:
    data = parse(CaseIn, payload)
    if find(data.case_ref) is not None:
        raise Conflict("This case already exists. Ask its officer in charge to add you to the team.",
                       {"case_ref": "A case with this reference exists."})
    case = _create(data.case_ref, data.category, data.summary, officer, config, now)
    return view(case, config)


def mine(officer: Officer, config: Config, now: datetime) -> Dict[str, Any]:
    """The cases the officer is on, newest first (supervisors: those they are on too)."""
    ids = [m.case_id for m in CaseMembership.query(officer.username)]
    cases = [c for c in Case.batch_get(ids) if officer.username in (c.team or set())] if ids else []
    cases.sort(key=lambda c: c.created_at, reverse=True)
    audit.record(officer, Action.LIST_CASES, case_ref="-", reason="my cases", now=now,
                 detail={"case_ids": [c.case_id for c in cases]})
    return {"cases": [view(c, config) for c in cases]}


def detail(case_id: str, officer: Officer, config: Config, now: datetime) -> Dict[str, Any]:
    """The case with its team and its footage requests by status, each with its evidence count."""
    case = by_id(case_id, officer)
    made, evidence = audited_requests(case, officer, Action.VIEW_CASE, now)
    by_status: Dict[str, List[Dict[str, Any]]] = {}
    for item in made:
        by_status.setdefault(item.status, []).append(requests.officer_view(item, evidence[item.request_id]))
    return {
        **view(case, config),
        "requests_by_status": by_status,
        "evidence_count": sum(1 for items in evidence.values() for e in items if e.status == ACCEPTED),
    }


def audited_requests(
    case: Case, officer: Officer, action: Action, now: datetime
) -> Tuple[List[FootageRequest], Dict[str, List[EvidenceItem]]]:
    """The case's footage requests and each one's evidence, logged with every id shown."""
    made = requests.for_case(case.case_ref)
    evidence = {item.request_id: requests.evidence_of(item.request_id) for item in made}
    audit.record(
        officer, action, case_ref=case.case_ref, reason=action.value.replace("_", " "), now=now,
        registration_ids=sorted({item.registration_id for item in made}),
        request_ids=[item.request_id for item in made],
    )
    return made, evidence


def change(case_id: str, payload: Any, officer: Officer, *, config: Config, now: datetime) -> Dict[str, Any]:
    """Category, summary, or open/closed: by the officer in charge or a supervisor."""
    patch = parse(CasePatch, payload)
    if not patch.model_fields_set:
        raise ValidationError("Send at least one field to change.")
    case = _managed(case_id, officer)
    if patch.hold is not None and not officer.supervises:
        raise Forbidden("Only a supervisor can hold a case's evidence indefinitely.", {"hold": "Supervisors only."})
    actions = [Case.updated_at.set(now)]
    if patch.category is not None:
        actions.append(Case.category.set(_category(patch.category, config)))
    if "summary" in patch.model_fields_set:
        actions.append(Case.summary.set(patch.summary) if patch.summary else Case.summary.remove())
    if patch.status is not None and patch.status != case.status:
        actions.append(Case.status.set(patch.status))
        actions.append(Case.closed_at.set(now) if patch.status == CLOSED else Case.closed_at.remove())
    if patch.hold is not None and patch.hold != bool(case.hold):
        actions.append(Case.hold.set(patch.hold))
    retention_before = retention.kept_words(case, config)
    _update(case, actions)
    audit.record(officer, Action.CHANGE_CASE, case_ref=case.case_ref, reason="case changed", now=now,
                 detail={"changes": patch.model_dump(exclude_unset=True)})
    if retention.kept_words(case, config) != retention_before:
        retention.log_change(case, officer.username, config, now)
    return view(case, config)


def add_member(case_id: str, payload: Any, officer: Officer, *, config: Config, now: datetime) -> Dict[str, Any]:
    username = parse(TeamMemberIn, payload).username
    case = _managed(case_id, officer)
    if not {OFFICER, SUPERVISOR} & _groups_of(username, config):
        raise ValidationError("Only officers can join a case's team.",
                              {"username": "There is no officer with this username."})
    CaseMembership(username, case.case_id, added_at=now).save()  # first: memberships stay a superset
    _update(case, [Case.team.add({username}), Case.updated_at.set(now)])
    audit.record(officer, Action.ADD_TEAM_MEMBER, case_ref=case.case_ref, reason="team changed", now=now,
                 detail={"username": username})
    return view(case, config)


def remove_member(case_id: str, username: str, officer: Officer, *, config: Config, now: datetime) -> Dict[str, Any]:
    case = _managed(case_id, officer)
    if username == case.officer_in_charge:
        raise Conflict("The officer in charge stays on the team.")
    if username not in (case.team or set()):
        raise NotFound("This officer is not on the case's team.")
    _update(case, [Case.team.delete({username}), Case.updated_at.set(now)])
    CaseMembership(username, case.case_id).delete()
    audit.record(officer, Action.REMOVE_TEAM_MEMBER, case_ref=case.case_ref, reason="team changed", now=now,
                 detail={"username": username})
    return view(case, config)


def view(case: Case, config: Config) -> Dict[str, Any]:
    delete_after = retention.delete_after(case, config)
    return {
        "hold": bool(case.hold),
        "closed_at": iso(case.closed_at) if case.closed_at else None,
        "evidence_delete_after": iso(delete_after) if delete_after else None,
        "evidence_deleted_at": iso(case.evidence_deleted_at) if case.evidence_deleted_at else None,
        "case_id": case.case_id,
        "case_ref": case.case_ref,
        "category": case.category,
        "summary": case.summary,
        "officer_in_charge": case.officer_in_charge,
        "team": sorted(case.team or set()),
        "status": case.status,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
    }


# ---------------------------------------------------------------------------------------------


def _create(
    case_ref: str, category: Optional[str], summary: Optional[str], officer: Officer, config: Config, now: datetime
) -> Case:
    fields = {}
    if not re.fullmatch(config.case_ref_pattern, case_ref):
        fields["case_ref"] = "This is not a reference in the force's format: check it for a typo."
    problem = _category_problem(category, config)
    if problem:
        fields["category"] = problem
    if fields:
        raise ValidationError("Some of the details need correcting.", fields)
    case_id = case_id_for(case_ref)
    CaseMembership(officer.username, case_id, added_at=now).save()
    case = Case(
        case_id, case_ref=" ".join(case_ref.split()), category=category, summary=summary,
        officer_in_charge=officer.username, team={officer.username}, status=OPEN, created_at=now, updated_at=now,
    )
    if put_once(case, Case.case_id):  # else another request opened it first: theirs stands
        audit.record(officer, Action.OPEN_CASE, case_ref=case.case_ref, reason="case opened", now=now,
                     detail={"category": category})
    return case


def _category(category: str, config: Config) -> str:
    problem = _category_problem(category, config)
    if problem:
        raise ValidationError("Some of the details need correcting.", {"category": problem})
    return category


def _category_problem(category: Optional[str], config: Config) -> Optional[str]:
    if not category:
        return "This case is new: choose its offence category."
    if category not in config.case_categories:
        return "Choose one of: " + "; ".join(config.case_categories) + "."
    return None


def _open(case: Case) -> Case:
    if case.status == CLOSED:
        raise Conflict(f"Case {case.case_ref} is closed: no new searches or requests can be made in it.")
    return case


def by_id(case_id: str, officer: Officer) -> Case:
    """The case with this id, if the officer is on it; NotFound otherwise (as for no case)."""
    case = None
    if CASE.matches(case_id):
        try:
            case = Case.get(case_id, consistent_read=True)
        except Case.DoesNotExist:
            case = None
    if case is None or not is_on(case, officer):
        raise NotFound(NOT_YOURS)
    return case


def _managed(case_id: str, officer: Officer) -> Case:
    case = by_id(case_id, officer)
    if not officer.supervises and officer.username != case.officer_in_charge:
        raise Forbidden(f"Only the officer in charge ({case.officer_in_charge}) or a supervisor can change this case.")
    return case


def _update(case: Case, actions: List[Any]) -> None:
    try:
        case.update(actions=actions)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("This case was changed elsewhere. Reload it and try again.") from None


def _groups_of(username: str, config: Config) -> set:
    cognito = clients.client("cognito-idp")
    try:
        found = cognito.admin_list_groups_for_user(UserPoolId=config.user_pool_id, Username=username)
    except cognito.exceptions.UserNotFoundException:
        return set()
    return {group["GroupName"] for group in found.get("Groups", [])}
