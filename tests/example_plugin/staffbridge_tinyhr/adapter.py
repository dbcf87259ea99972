"""The TinyHR adapter: settings, credentials, and the five hooks the Adapter base class calls.

    tinyhr = staffbridge.connect("tinyhr", base_url="https://tinyhr.example.com/api", token=TOKEN)

Everything else (validation, mapping through tinyhr.toml, retries, rate limits, typed errors such as
NotFound for a 404, secrets kept out of logs) comes from staffbridge.sdk.adapter.HTTPAdapter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import validate

from staffbridge.model.person import Person
from staffbridge.sdk.adapter import HTTPAdapter, HTTPSettings, secret_setting


class TinyHRSettings(HTTPSettings):
    token = secret_setting(required=True, validate=validate.Length(min=1))  # masked in reprs and logs


class TinyHRAdapter(HTTPAdapter):
    name = "tinyhr"  # the entry point name, and the name of the mapping file
    Settings = TinyHRSettings
    pagination = "page"

    def auth(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self.settings['token']}"

    def fetch_records(self, **filters: Any) -> Iterator[Any]:  # TinyHR has no filters: `filters` stays empty
        page: int | None = 1
        while page:
            answer = self.transport.json(self.transport.request("GET", "/people", params={"page": page}))
            yield from answer["people"]
            page = answer["next_page"]

    def fetch_record(self, id: str) -> Any:
        return self.transport.json(self.transport.request("GET", f"/people/{id}"))

    def create_record(self, body: dict[str, Any], person: Person, **options: Any) -> Any:
        return self.transport.json(self.transport.request("POST", "/people", json_body=body))

    def update_record(self, id: str, body: dict[str, Any], changes: dict[str, Any], **options: Any) -> Any:
        return self.transport.json(self.transport.request("PATCH", f"/people/{id}", json_body=body))

    def delete_record(self, id: str) -> None:
        self.transport.request("DELETE", f"/people/{id}")
