"""Observability seams: the records Portico emits about MCP requests and authorization events.

docs/observability.md describes them.
"""
