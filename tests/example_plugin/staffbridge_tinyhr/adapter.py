"""The TinyHR adapter: what its API looks like, declared; the Adapter SDK does the rest.

    tinyhr = staffbridge.connect("tinyhr", base_url="https://tinyhr.example.com/api", token=TOKEN)

Everything else (list/get/create/update/delete, validation, mapping through tinyhr.toml, retries, rate
limits, typed errors such as NotFound for a 404, secrets kept out of logs) comes from
staffbridge.sdk.http_adapter.HTTPAdapter.
"""

from __future__ import annotations

from marshmallow import validate

from staffbridge.sdk.auth import HeaderAuth
from staffbridge.sdk.http_adapter import HTTPAdapter
from staffbridge.sdk.paginators import PageNumber
from staffbridge.sdk.settings import HTTPSettings, secret_setting


class TinyHRSettings(HTTPSettings):
    token = secret_setting(required=True, validate=validate.Length(min=1))  # masked in reprs and logs


class TinyHRAdapter(HTTPAdapter):
    name = "tinyhr"  # the entry point name, and the name of the mapping file
    Settings = TinyHRSettings
    paths = {
        "list": "/people",
        "get": "/people/{id}",
        "create": "/people",
        "update": "/people/{id}",
        "delete": "/people/{id}",
    }
    records_key = ("people",)  # a page answers {"people": [...], "next_page": N}
    paginator = PageNumber(size=10, size_param="per_page")
    auth = HeaderAuth("Authorization", setting="token", prefix="Bearer ")
    update_method = "PATCH"
