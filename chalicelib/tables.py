"""Every table Sightline keeps, for whoever creates (the local stack, tests) or deploys them
(the CDK app builds one table per model, ``infrastructure/sightline_infra/data.py``).

Each domain package owns the models of its own tables and marks them with ``store.table``;
importing the packages' table modules here is what gathers them all.
"""
from __future__ import annotations

from typing import List, Type

from pynamodb.models import Model

from chalicelib.base import audit, store, tokens  # noqa: F401 (their tables)
from chalicelib.footage import tables as _footage  # noqa: F401
from chalicelib.investigations import tables as _investigations  # noqa: F401
from chalicelib.mail import limits as _mail  # noqa: F401
from chalicelib.registry import tables as _registry  # noqa: F401

ALL_MODELS: List[Type[Model]] = store.models()


def create_tables() -> None:
    """Create every table that does not exist yet (off AWS only)."""
    store.create_tables(ALL_MODELS)
