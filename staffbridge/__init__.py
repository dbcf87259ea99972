"""staffbridge: one canonical Person for every staff directory.

    import staffbridge
    moco = staffbridge.connect("moco", domain="acme", api_key="...")
    for person in moco.list():
        print(person.first_name, person.email)
"""
__version__ = "0.1.0"

from .errors import (AdapterNotFound, AuthenticationError, ConfigError, DeleteRefused, MappingError,
                     MissingReference, NotFound, PersonValidationError, RateLimited, RequestInfo,
                     ResponseError, ServerError, StaffbridgeError, Timeout, TransportError,
                     UnsupportedOperation, VendorAPIError, VendorMessage, VendorValidationError)
from .person import Address, Person, PersonSchema, Ref
from .registry import available, connect
from .migrate import migrate
from .unify import unify

__all__ = [
    "__version__", "connect", "available", "migrate", "unify", "Person", "PersonSchema", "Ref", "Address",
    "StaffbridgeError", "ConfigError", "AdapterNotFound", "UnsupportedOperation", "PersonValidationError",
    "MissingReference", "MappingError", "VendorAPIError", "AuthenticationError", "NotFound",
    "VendorValidationError", "DeleteRefused", "RateLimited", "ServerError", "ResponseError",
    "TransportError", "Timeout", "RequestInfo", "VendorMessage",
]
