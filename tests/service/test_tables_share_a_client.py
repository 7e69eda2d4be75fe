"""Every table speaks through the process's one DynamoDB client (a cold start builds one)."""
from __future__ import annotations

import pytest

from chalicelib.base import clients
from chalicelib.tables import ALL_MODELS

pytestmark = pytest.mark.usefixtures("aws")


def test_every_table_uses_the_shared_dynamodb_client():
    """PynamoDB would build a session and client per table (and per thread); store.Table hands
    each connection the shared one. This fails if PynamoDB stops using Connection._client."""
    for model in ALL_MODELS:
        assert model.exists()
    shared = clients.client("dynamodb")
    assert {id(model._get_connection().connection.client) for model in ALL_MODELS} == {id(shared)}


def test_reads_from_many_threads_build_no_other_client():
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.registry.tables import GeoIndexEntry

    with ThreadPoolExecutor(max_workers=8) as pool:
        used = set(pool.map(lambda _: id(GeoIndexEntry._get_connection().connection.client), range(32)))
    assert used == {id(clients.client("dynamodb"))}
