"""staffbridge: one canonical Person for every staff directory.

    import staffbridge
    moco = staffbridge.connect("moco", domain="acme", api_key="...")
    for person in moco.list():
        print(person.first_name, person.email)

Every public name is exported lazily (PEP 562): `import staffbridge` loads nothing else, so
`staffbridge --version` starts about as fast as Python does; the first use of a name imports its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it (one definition per concept; nothing here is a module name)
_EXPORTS = {
    "connect": "staffbridge.sdk.registry",
    "available": "staffbridge.sdk.registry",
    "migrate": "staffbridge.jobs.migration.run",
    "unify": "staffbridge.jobs.unification.run",
    **dict.fromkeys(("Person", "PersonSchema", "Ref", "Address"), "staffbridge.model.person"),
    **dict.fromkeys(
        (
            "StaffbridgeError",
            "ConfigError",
            "AdapterNotFound",
            "UnsupportedOperation",
            "PersonValidationError",
            "MissingReference",
            "MappingError",
            "VendorAPIError",
            "AuthenticationError",
            "NotFound",
            "VendorValidationError",
            "DeleteRefused",
            "TooManyDeletes",
            "RateLimited",
            "ServerError",
            "ResponseError",
            "TransportError",
            "Timeout",
            "RequestInfo",
            "ResponseInfo",
            "VendorMessage",
        ),
        "staffbridge.model.errors",
    ),
}

__all__ = [  # written out (not derived from _EXPORTS) so linters and type checkers can read it
    "AdapterNotFound",
    "Address",
    "AuthenticationError",
    "ConfigError",
    "DeleteRefused",
    "MappingError",
    "MissingReference",
    "NotFound",
    "Person",
    "PersonSchema",
    "PersonValidationError",
    "RateLimited",
    "Ref",
    "RequestInfo",
    "ResponseError",
    "ResponseInfo",
    "ServerError",
    "StaffbridgeError",
    "Timeout",
    "TooManyDeletes",
    "TransportError",
    "UnsupportedOperation",
    "VendorAPIError",
    "VendorMessage",
    "VendorValidationError",
    "__version__",
    "available",
    "connect",
    "migrate",
    "unify",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module_name), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names above load on first use
    from staffbridge.jobs.migration.run import migrate
    from staffbridge.jobs.unification.run import unify
    from staffbridge.model.errors import (
        AdapterNotFound,
        AuthenticationError,
        ConfigError,
        DeleteRefused,
        MappingError,
        MissingReference,
        NotFound,
        PersonValidationError,
        RateLimited,
        RequestInfo,
        ResponseError,
        ResponseInfo,
        ServerError,
        StaffbridgeError,
        Timeout,
        TooManyDeletes,
        TransportError,
        UnsupportedOperation,
        VendorAPIError,
        VendorMessage,
        VendorValidationError,
    )
    from staffbridge.model.person import Address, Person, PersonSchema, Ref
    from staffbridge.sdk.registry import available, connect
