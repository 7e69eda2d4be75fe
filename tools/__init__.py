"""Operators' commands (``python -m tools.<name>``); never shipped to Lambda."""
