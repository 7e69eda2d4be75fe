"""Scheduled clean-up: what DynamoDB's TTL removes only eventually (and the local engine never),
the backstops for writes a crash interrupted, and for a footage-request timer that failed. Each
package purges its own."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Dict

from chalicelib.base import tokens
from chalicelib.base.config import Config
from chalicelib.base.messages import Notify
from chalicelib.footage import requests
from chalicelib.investigations import exports
from chalicelib.mail import deliveries
from chalicelib.registry import currency, records

# A deleted registration's confirmation email is retried for this long; after it, the deletion
# is finished without one (an address that refuses mail must not keep its data here).
GIVE_UP_CONFIRMING = timedelta(hours=24)


def run(now: datetime, notify: Notify, config: Config) -> Dict[str, int]:
    return {
        "expired_registrations": records.purge_expired(now),
        "expired_tokens": tokens.purge_expired(now),
        "expired_requests": requests.expire_overdue(now, notify),
        "officer_notices_queued": requests.tell_officers(now, notify),
        "exports_requeued": exports.requeue_unsent(now, exports.get_export_queue()),
        "exports_failed": exports.fail_stalled(now),
        **currency.sweep(now, notify, config),
        **finish_deletions(now, notify, config),
        **records.reconcile(now),
    }


def finish_deletions(now: datetime, notify: Notify, config: Config) -> Dict[str, int]:
    """Deletions whose confirmation is still waiting: asked for again, or, after
    :data:`GIVE_UP_CONFIRMING`, finished without it."""
    retried = finished = 0
    for item in records.stale_deletions(now, timedelta(minutes=config.deletion_retry_minutes)):
        if now - item.updated_at > GIVE_UP_CONFIRMING:
            deliveries.finish_deletion(item.registration_id, now)
            finished += 1
        else:
            notify({"type": "registration_deleted", "registration_id": item.registration_id})
            retried += 1
    return {"deletions_retried": retried, "deletions_finished_unconfirmed": finished}
