"""The registry: residents' registrations, owners' access to them, and the geo index.

Builds on ``base`` and ``geo``; knows nothing of footage requests or officers.
"""
