"""staffbridge: one canonical Person for every staff directory.

    import staffbridge
    moco = staffbridge.connect("moco", domain="acme", api_key="...")
    for person in moco.list():
        print(person.first_name, person.email)
"""
__version__ = "0.1.0"

from .errors import (AdapterNotFound, AuthenticationError, ConfigError, DeleteRefused, MappingError,
                     MissingReference, NotFound, PersonValidationError, RateLimited, RequestInfo,
                     ResponseError, ResponseInfo, ServerError, StaffbridgeError, Timeout, TransportError,
                     UnsupportedOperation, VendorAPIError, VendorMessage, VendorValidationError)
from .person import Address, Person, PersonSchema, Ref
# Bound eagerly: importing the submodule staffbridge.migrate (or .unify) sets that attribute of the
# package to the module, which a lazy __getattr__ could never take back.
from .migrate import migrate
from .unify import unify

# stevedore loads on first use (PEP 562): `staffbridge --version` need not scan entry points.
_LAZY = {"connect": "registry", "available": "registry"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from importlib import import_module
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "__version__", "connect", "available", "migrate", "unify", "Person", "PersonSchema", "Ref", "Address",
    "StaffbridgeError", "ConfigError", "AdapterNotFound", "UnsupportedOperation", "PersonValidationError",
    "MissingReference", "MappingError", "VendorAPIError", "AuthenticationError", "NotFound",
    "VendorValidationError", "DeleteRefused", "RateLimited", "ServerError", "ResponseError",
    "TransportError", "Timeout", "RequestInfo", "ResponseInfo", "VendorMessage",
]
