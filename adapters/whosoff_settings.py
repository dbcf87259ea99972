"""WhosOff settings, the documented field tables, and small value types the adapter uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from staffbridge.adapters.whosoff_auth import SECRET_ENCODINGS
from staffbridge.model.errors import NotFound
from staffbridge.model.person import Person
from staffbridge.sdk.settings import HTTPSettings, given_together, secret_setting, valid_date_format, valid_ip_address

MAX_INT32 = 2_147_483_647
# Codes the bundled sandbox uses (WhosOff publishes none for these cases); all are settings.
AUTH_CODES = ("0401", "0402", "0403", "0405", "0406", "0407", "0408", "0410", "0411", "0412", "0413")
PERMISSION_CODES = ("0406", "0407", "0408", "0413")
NOT_FOUND_CODES = ("0300", "0404")

# The update model (the update sample plus the dated fields of the parameter table).
UPDATE_FIELDS = (
    "staff_code",
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "user_type_id",
    "default_view_type_id",
    "default_view_id",
    "default_sorting_id",
    "department_id",
    "region_id",
    "approver_id",
    "approver_role_id",
    "notifier_2_id",
    "notifier_2_role_id",
    "notifier_3_id",
    "notifier_3_role_id",
    "email_contact",
    "email_type_id",
    "status_id",
    "work_telephone",
    "mobile_telephone",
    "active_directory_username",
    "employment_started_date",
    "employment_ended_date",
)
CREATE_ONLY_FIELDS = ("allowance_type_id", "password")
ROLE_IDS = ("0", "1", "2", "3", "4", "5", "6")
ENUMS = {
    "user_type_id": ("100", "200", "210", "220", "300", "310"),
    "status_id": ("0", "1"),
    "email_type_id": ("0", "1", "2"),
    "allowance_type_id": ("0", "1"),
    "default_view_type_id": ("1", "2"),
    "default_sorting_id": ("0", "1", "2", "3", "4"),
    "approver_role_id": ROLE_IDS,
    "notifier_2_role_id": ROLE_IDS,
    "notifier_3_role_id": ROLE_IDS,
}
# Documented length limits (api-user page), checked before sending: vendor field -> canonical field.
MAX_LENGTHS = {
    "email_contact": (255, "email"),
    "work_telephone": (60, "work_phone"),
    "mobile_telephone": (30, "mobile_phone"),
    "active_directory_username": (50, "username"),
    "password": (50, "password"),
}
STATUS_FILTER = {
    "active": "1",
    "disabled": "0",
    "inactive": "0",
    "both": "99",
    "all": "99",
    "1": "1",
    "0": "0",
    "99": "99",
}


# ------------------------------------------------------------------ settings


class WhosOffSettings(HTTPSettings):
    base_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    app_id = secret_setting(required=True, validate=validate.Length(min=1))
    access_token = secret_setting(load_default=None, allow_none=True)
    username = fields.String(load_default=None, allow_none=True)
    password = secret_setting(load_default=None, allow_none=True)
    client_secret = secret_setting(load_default=None, allow_none=True)
    ip_address = fields.String(load_default=None, allow_none=True, validate=valid_ip_address)
    secret_encoding = fields.String(load_default="hex", validate=validate.OneOf(SECRET_ENCODINGS))
    token_margin = fields.Float(load_default=60.0, validate=validate.Range(min=0))
    token_lifetime = fields.Float(load_default=300.0, validate=validate.Range(min=1))
    defaults = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    map_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_INT32))
    retrieve_version = fields.String(load_default="v4", validate=validate.OneOf(("v4", "v4.1")))
    authenticate_path = fields.String(
        load_default="/v4/authenticate/with-credentials", validate=validate.Regexp(r"^/", error="Must start with '/'.")
    )
    trailing_slash = fields.Boolean(load_default=False)
    date_format = fields.String(load_default=None, allow_none=True, validate=valid_date_format)
    department_lookup = fields.String(load_default="auto", validate=validate.OneOf(("auto", "department_api", "users")))
    generate_password = fields.Boolean(load_default=True)
    auth_codes = fields.List(fields.String(), load_default=lambda: list(AUTH_CODES))
    permission_codes = fields.List(fields.String(), load_default=lambda: list(PERMISSION_CODES))
    not_found_codes = fields.List(fields.String(), load_default=lambda: list(NOT_FOUND_CODES))
    warning_codes = fields.List(fields.String(), load_default=list)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        shake = given_together(data, ("username", "password", "client_secret"), "the credentials handshake")
        if not shake and not data.get("access_token"):
            raise ValidationError("give access_token, or username, password and client_secret", "access_token")
        for name, value in (data.get("defaults") or {}).items():
            if name not in UPDATE_FIELDS + CREATE_ONLY_FIELDS or name == "password":
                raise ValidationError(f"{name!r} is not a WhosOff user field that can have a default", "defaults")
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ValidationError(f"{name}: give a string (or a whole number)", "defaults")
            if name in ENUMS and str(value) not in ENUMS[name]:
                raise ValidationError(f"{name}: {value!r} is not one of {', '.join(ENUMS[name])}", "defaults")


# ------------------------------------------------------------------ small value types


@dataclass
class MyStaff:
    """get my-staff: the caller's staff (light Persons) and WhosOff's leave overview, as sent."""

    people: list[Person]
    overview: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def user_id(id: Any) -> str:
    # user ids are Int32: anything else can only be a 404, so say so without a request
    text = str(id).strip()
    if not text.isdigit() or int(text) > MAX_INT32:
        raise NotFound(f"whosoff: {id!r} is not a WhosOff user id", vendor="whosoff")
    return text


def wire_value(value: Any) -> Any:
    """A value read back, as the write model wants it: numbers as strings, like the samples."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value
