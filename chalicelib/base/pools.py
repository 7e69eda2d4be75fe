"""The process's one thread pool for concurrent DynamoDB reads, created on first use.

A search reads up to ``geo.MAX_QUERIES`` key ranges at once, then its registrations in batches;
the two phases never overlap, so one pool serves both without waiting on itself.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.base.lazy import Lazy

MAX_WORKERS = 12

reads: Lazy[ThreadPoolExecutor] = Lazy(lambda: ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="reads"))
