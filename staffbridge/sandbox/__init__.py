"""Local, stateful emulators of each vendor API: real HTTP servers on 127.0.0.1 (see server.py)."""
from __future__ import annotations

import importlib

from staffbridge.sandbox.server import FAULT_KINDS, Request, Response, Routes, Sandbox, json_response

# vendor name -> "module:Class"; imported on demand so one vendor's emulator costs the others nothing
SANDBOXES = {
    "moco": "staffbridge.sandbox.moco:MocoSandbox",
    "whosoff": "staffbridge.sandbox.whosoff:WhosOffSandbox",
    "fieldservice": "staffbridge.sandbox.fieldservice:FieldServiceSandbox",
}


def sandbox_class(vendor: str) -> type[Sandbox]:
    try:
        module_name, class_name = SANDBOXES[vendor].split(":")
    except KeyError:
        raise LookupError(f"no sandbox for {vendor!r}; available: {', '.join(sorted(SANDBOXES))}") from None
    return getattr(importlib.import_module(module_name), class_name)


__all__ = ["FAULT_KINDS", "Request", "Response", "Routes", "Sandbox", "SANDBOXES", "json_response",
           "sandbox_class"]
