"""The data-flow core shared by every rule: value kinds through expressions, variables, attributes and functions.

What it models of the torch API (producers, kind-preserving operations, selections, sinks,
distribution namespaces, containers) is listed in docs/torch-api.md, written from the tables
of torch_api.py by coverage.py (`python scripts/generate_api_page.py`; a test checks it).
"""
