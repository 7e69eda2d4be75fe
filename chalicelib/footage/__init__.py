"""Footage: requests as records, owners' answers and uploads, evidence, and the workflow timer.

Builds on ``base`` and the ``registry``; what officers do with it lives in ``investigations``.
"""
