"""Local, stateful emulators of each vendor API: real HTTP servers on 127.0.0.1 (see server.py).

One package per vendor, kept apart as moto keeps its emulators: `backend` (state and rules, no
HTTP) and `routes` (URL -> handler, request parsing, JSON rendering, the vendor's error bodies).
They are registered as `staffbridge.sandboxes` entry points; look one up by name with
`staffbridge.sdk.registry.sandbox_class("moco")`.
"""

from __future__ import annotations

from staffbridge.sandbox.server import FAULT_KINDS, Request, Response, Routes, Sandbox, json_response

__all__ = ["FAULT_KINDS", "Request", "Response", "Routes", "Sandbox", "json_response"]
