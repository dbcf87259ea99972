"""The settings every adapter takes (marshmallow schemas), secret settings, and validators that
more than one vendor needs. An adapter's `Settings` subclasses `AdapterSettings` or `HTTPSettings`."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate


def secret_setting(**kwargs: Any) -> fields.String:
    """A setting that is a secret: masked in reprs, errors and logs."""
    return fields.String(metadata={"secret": True}, **kwargs)


class AdapterSettings(Schema):
    """Settings every adapter takes. Subclasses add their own fields."""

    mapping = fields.Raw(load_default=None)  # a user mapping file (path) or dict laid over the shipped one

    class Meta:
        unknown = RAISE


class HTTPSettings(AdapterSettings):
    base_url = fields.Url(require_tld=False, schemes={"http", "https"})
    timeout = fields.Float(load_default=30.0, validate=validate.Range(min=0, min_inclusive=False))
    rate_limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    rate_period = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False))
    max_retries = fields.Integer(load_default=4, validate=validate.Range(min=0, max=20))
    # HTTP statuses retried for idempotent requests (default 429, 500, 502, 503, 504); 429 always is
    retry_statuses = fields.List(
        fields.Integer(validate=validate.Range(min=400, max=599)), load_default=None, allow_none=True
    )
    pool_size = fields.Integer(load_default=16, validate=validate.Range(min=1, max=256))


def valid_ip_address(value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError("Not an IP address.") from None


def valid_date_format(value: str) -> None:
    """A strftime format that writes a date and reads it back, e.g. '%d/%m/%Y'."""
    sample = dt.date(2001, 2, 3)
    try:
        ok = dt.datetime.strptime(sample.strftime(value), value).date() == sample
    except ValueError:
        ok = False
    if not ok:
        raise ValidationError("Not a date format that writes and reads back a date, e.g. '%d/%m/%Y'.")


def given_together(data: Mapping[str, Any], names: Iterable[str], purpose: str) -> bool:
    """Whether settings that only work together (a handshake's credentials) are given: all (True) or
    none (False); ValidationError names the first missing one when only some are."""
    names = list(names)
    given = [name for name in names if data.get(name)]
    if given and len(given) < len(names):
        missing = next(name for name in names if name not in given)
        raise ValidationError(
            f"{purpose} needs {', '.join(names[:-1])} and {names[-1]} together; {missing!r} is missing", missing
        )
    return bool(given)


__all__ = [
    "AdapterSettings",
    "HTTPSettings",
    "given_together",
    "secret_setting",
    "valid_date_format",
    "valid_ip_address",
]
