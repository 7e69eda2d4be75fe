"""What every table shares: where it is, how long a call may take, and how writes conflict.

Each domain package declares the models of its own tables with :class:`TableMeta` as their
``Meta``'s metaclass and a ``table`` suffix; the table's name, region, endpoint and timeouts are
read from the configuration when PynamoDB first connects, so nothing is bound at import and
nothing is re-bound at run time. ``chalicelib.tables`` lists every model, for those who create
or deploy tables.

No model relies on DynamoDB transactions: the local engine (dynalite) has none, and every
multi-item change is ordered so that a crash between two writes leaves a state the next retry
or the housekeeping job repairs (``docs/decisions.md``).
"""
from __future__ import annotations

from typing import Any, Iterable, List, Type, TypeVar

from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib.base import clients
from chalicelib.base.config import Config, get_config
from chalicelib.base.lazy import on_reset

_MODELS: List[Type[Model]] = []

M = TypeVar("M", bound=Model)

BATCH_GET_KEYS = 100  # DynamoDB's BatchGetItem limit


class TableMeta(type):
    """Metaclass of a model's ``Meta``: the table's name comes from the configuration.

    ``class Meta(metaclass=TableMeta): table = "registrations"`` names the table by its suffix
    (deployed as ``<prefix>-registrations``, or ``SIGHTLINE_REGISTRATIONS_TABLE``). Endpoint,
    region and timeouts are the shared client's (``clients``, handed over by :class:`Table`);
    PynamoDB still reads ``max_retry_attempts`` for a batch's unprocessed items, and looks at it
    when the model class is created, at import, which must not fix the configuration before the
    process has set its environment (the CDK app imports the models, then sets the environment
    the app is packaged with): hence ``_settings``.
    """

    @property
    def table_name(cls) -> str:
        return get_config().table_name(cls.table)

    @property
    def max_retry_attempts(cls) -> int:
        return _settings().dynamodb_max_retries


def _settings() -> Config:
    """The configuration if it has been read, else the environment's as it is now (uncached)."""
    return get_config.peek() or Config.from_environ()


class Table(Model):
    """Base of every model: its table speaks through the process's one DynamoDB client.

    PynamoDB would build a botocore session and client per table, and a session per thread
    (a search reads from a dozen threads): each costs tens of milliseconds of cold start. This
    hands every table's connection the shared client from ``clients`` instead. It sets
    ``Connection._client``, PynamoDB 6.1's private cache of its client (pinned in
    requirements.txt; tests/service/test_tables_share_a_client.py fails if that changes).
    """

    @classmethod
    def _get_connection(cls) -> Any:
        connection = super()._get_connection()
        shared = clients.client("dynamodb")
        if connection.connection._client is not shared:
            connection.connection._client = shared
        return connection


def table(model: Type[Model]) -> Type[Model]:
    """Class decorator: a model of one of Sightline's tables (for :func:`models`)."""
    if not isinstance(model.Meta, TableMeta) or not issubclass(model, Table):
        raise TypeError(f"{model.__name__} must be a store.Table whose Meta uses TableMeta")
    _MODELS.append(model)
    return model


def models() -> List[Type[Model]]:
    """The models declared so far (``chalicelib.tables`` imports every package's)."""
    return list(_MODELS)


def condition_failed(exc: Exception) -> bool:
    """Whether a PynamoDB write error is a failed condition (someone else got there first)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def put_once(item: M, key: Any) -> bool:
    """Create ``item`` unless an item with its key (``key``, the model's hash key attribute)
    exists: True if this call created it. Otherwise ``item`` is refreshed to the one that
    stands, so a retried or concurrent create ends with the first one's values."""
    try:
        item.save(condition=key.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)
        return False
    return True


def create_tables(models: Iterable[Type[Model]]) -> None:
    """Create the tables off AWS (local stack, tests). In AWS the CDK app owns them."""
    for model in models:
        if not model.exists():
            # dynalite has no UpdateTimeToLive; expiry is enforced on read and by housekeeping.
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True, ignore_update_ttl_errors=True)


@on_reset
def _drop_connections() -> None:
    """A changed configuration (tests, the local stack) needs new connections."""
    for model in _MODELS:
        model._connection = None
