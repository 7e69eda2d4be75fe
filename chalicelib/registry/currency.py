"""The registry stays current: owners re-confirm their registration once a year.

``config.reconfirm_after_days`` after an owner last confirmed (``views.last_confirmed``),
housekeeping asks them by email; unanswered ``reconfirm_pause_after_days`` later, the
registration is paused (not searchable) and they are reminded; unanswered
``reconfirm_delete_after_days`` after the pause, it is deleted as an owner's own deletion is
(``registrations.delete_for_owner``'s path: a tombstone, then ``mail.deliveries`` sends the
notice, pseudonymises the requests made to them and removes it).

Each step is a conditional update of the item (the step's mark, and the item's version) made
before its email is queued: of two runs, or a run and its re-run, one wins and queues one email;
the other's update fails its condition and it moves on. Only registrations that are active are
asked: one its owner paused is nobody's search result, and their choice to keep it paused is not
overridden (docs/decisions.md, "The registry stays current").

The owner answers on the residents' site (``confirm.html``): the page shows the registration
through :func:`preview`, which changes nothing (mail scanners open links), and its button posts
to :func:`confirm`. Loaded by housekeeping, so no pydantic here: the route parses the token
(``registrations.confirm``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from pynamodb.exceptions import UpdateError

from chalicelib.base import tokens
from chalicelib.base.config import Config
from chalicelib.base.errors import Conflict, Gone
from chalicelib.base.ids import iso
from chalicelib.base.messages import Notify
from chalicelib.base.store import condition_failed
from chalicelib.registry import index, records
from chalicelib.registry.tables import ACTIVE, DELETED, NOT_RECONFIRMED, PAUSED, Registration
from chalicelib.registry.views import last_confirmed, owner_view

# The answer to a link that is used, expired or never was: the same as other owners' links.
LINK_GONE = "This link has expired or has already been used. Ask for a new one."


# --- Housekeeping -----------------------------------------------------------------------------


def sweep(now: datetime, notify: Notify, config: Config) -> Dict[str, int]:
    """Take every registration that is due one step along: ask, pause and remind, or delete.

    One scan of the registrations table with a filter (20,000 seeded items: 1,584 read units,
    4 s on dynalite when nothing is due); the filter returns only the items with a step due or
    under way. At most ``config.reconfirm_steps_per_run`` steps a run: the rest wait an hour.
    """
    counts = {"reconfirm_asked": 0, "reconfirm_paused": 0, "reconfirm_deleted": 0}
    taken = 0
    for item in Registration.scan(_under_way_or_due(now, config)):
        if taken >= config.reconfirm_steps_per_run:
            break
        step = due_step(item, now, config)
        if step is not None and _STEPS[step](item, now, notify):
            counts[f"reconfirm_{step}"] += 1
            taken += 1
    return counts


def due_step(item: Registration, now: datetime, config: Config) -> Optional[str]:
    """``asked``, ``paused`` or ``deleted``: the step this registration is due, if any."""
    if item.status == ACTIVE and item.reconfirm_asked_at is None:
        if last_confirmed(item) <= now - timedelta(days=config.reconfirm_after_days):
            return "asked"
    elif item.status == ACTIVE:
        if item.reconfirm_asked_at <= now - timedelta(days=config.reconfirm_pause_after_days):
            return "paused"
    elif item.status == PAUSED and item.reconfirm_paused_at is not None:
        if item.reconfirm_paused_at <= now - timedelta(days=config.reconfirm_delete_after_days):
            return "deleted"
    return None


def answer_by(item: Registration, config: Config) -> Optional[datetime]:
    """Until when the owner can answer the step under way (the next step's time)."""
    if item.reconfirm_paused_at is not None:
        return item.reconfirm_paused_at + timedelta(days=config.reconfirm_delete_after_days)
    if item.reconfirm_asked_at is not None:
        return item.reconfirm_asked_at + timedelta(days=config.reconfirm_pause_after_days)
    return None


def _under_way_or_due(now: datetime, config: Config) -> Any:
    cutoff = now - timedelta(days=config.reconfirm_after_days)
    unconfirmed = Registration.confirmed_at.does_not_exist()
    due = (
        (Registration.confirmed_at <= cutoff)
        | (unconfirmed & (Registration.verified_at <= cutoff))
        | (unconfirmed & Registration.verified_at.does_not_exist() & (Registration.created_at <= cutoff))
    )
    return ((Registration.status == ACTIVE) & (Registration.reconfirm_asked_at.exists() | due)) | (
        (Registration.status == PAUSED) & Registration.reconfirm_paused_at.exists()
    )


def _ask(item: Registration, now: datetime, notify: Notify) -> bool:
    marked = _step(item, [Registration.reconfirm_asked_at.set(now)],
                   (Registration.status == ACTIVE) & Registration.reconfirm_asked_at.does_not_exist())
    if marked:
        _queue_or_undo(item, notify, "reconfirm_registration", Registration.reconfirm_asked_at, now)
    return marked


def _pause(item: Registration, now: datetime, notify: Notify) -> bool:
    asked_at = item.reconfirm_asked_at
    marked = _step(
        item,
        [Registration.status.set(PAUSED), Registration.reconfirm_paused_at.set(now)],
        (Registration.status == ACTIVE) & (Registration.reconfirm_asked_at == asked_at),
    )
    if marked:
        # After the update, as an owner's pause does: the index stays a superset of the active set.
        index.remove(index.keys(item))
        notify({"type": "reconfirm_reminder", "registration_id": item.registration_id})
    return marked


def _delete(item: Registration, now: datetime, notify: Notify) -> bool:
    paused_at = item.reconfirm_paused_at
    marked = _step(
        item,
        [Registration.status.set(DELETED), Registration.deleted_because.set(NOT_RECONFIRMED),
         Registration.updated_at.set(now), Registration.expires_at.remove()],
        (Registration.status == PAUSED) & (Registration.reconfirm_paused_at == paused_at),
    )
    if marked:
        # From here exactly as an owner's deletion (registrations.delete_for_owner); the
        # tombstone's reason picks the notice, and housekeeping's finish_deletions retries it.
        index.remove(index.keys(item))
        notify({"type": "registration_deleted", "registration_id": item.registration_id})
    return marked


_STEPS = {"asked": _ask, "paused": _pause, "deleted": _delete}


def _step(item: Registration, actions: list, condition: Any) -> bool:
    """One step's conditional update (PynamoDB adds the version to the condition): False if
    another run, or the owner, changed the registration first."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True


def _queue_or_undo(item: Registration, notify: Notify, kind: str, mark: Any, now: datetime) -> None:
    """Queue the step's email; if the queue refuses, take the mark back so the next run asks."""
    try:
        notify({"type": kind, "registration_id": item.registration_id})
    except Exception:
        try:
            item.update(actions=[mark.remove()], condition=mark == now)
        except UpdateError:
            pass  # changed meanwhile (the owner confirmed): nothing to take back
        raise


# --- The owner's answer -----------------------------------------------------------------------


def preview(token: str, *, config: Config, now: datetime) -> Dict[str, Any]:
    """What the confirm page shows: the registration as the manage page does, and until when
    the link works. Changes nothing: a mail scanner may open it."""
    grant, item = _granted(token, now)
    return {
        "registration": owner_view(item),
        "paused_for_reconfirmation": item.reconfirm_paused_at is not None,
        "link_expires_at": iso(grant.expires_at),
        "force_name": config.force_name,
    }


def confirm(token: str, *, now: datetime) -> Dict[str, Any]:
    """The owner says the registration is still right: ``confirmed_at`` is set, the process
    stops, and a registration paused for want of an answer is active (and findable) again. A
    pause the owner chose is left as it is. The link then works no more."""
    for _attempt in range(3):
        _grant, item = _granted(token, now)
        resume = item.status == PAUSED and item.reconfirm_paused_at is not None
        actions = [
            Registration.confirmed_at.set(now),
            Registration.reconfirm_asked_at.remove(),
            Registration.reconfirm_paused_at.remove(),
        ]
        if resume:
            index.add(item)  # before it is active: the index stays a superset of the active set
            actions.append(Registration.status.set(ACTIVE))
        if _step(item, actions, Registration.status.is_in(ACTIVE, PAUSED)):
            tokens.consume(token, tokens.RECONFIRM, now)
            return {"registration_id": item.registration_id, "status": item.status, "confirmed_at": iso(now)}
    raise Conflict("This registration is being changed by another request. Please try again.")


def _granted(token: str, now: datetime) -> tuple:
    grant = tokens.peek(token, tokens.RECONFIRM, now)
    item = records.find(grant.subject) if grant is not None else None
    if item is None or item.status not in (ACTIVE, PAUSED):
        raise Gone(LINK_GONE)
    return grant, item
