"""Investigations: what officers do. Searches near an incident, asking owners for footage,
reading requests and evidence, and supervisors reading the audit log; every look is audited.

The top of the domain: builds on ``base``, ``geo``, the ``registry`` and ``footage``.
"""
