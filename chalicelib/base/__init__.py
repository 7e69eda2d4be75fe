"""What every domain builds on: configuration, errors, validation, ids and times, AWS clients,
table settings, link tokens, the audit writer, officers' identity and the message queue.

Nothing here imports a domain package (import-linter checks it: ``.importlinter``).
"""
