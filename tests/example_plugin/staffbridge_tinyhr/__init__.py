"""TinyHR for staffbridge: how a third-party package adds a vendor (adapter, mapping, sandbox).

TinyHR is a made-up staff API, small on purpose:

    GET    /api/people?page=N    {"people": [...], "next_page": N+1 or null}
    GET    /api/people/{id}      POST /api/people (201)    PATCH /api/people/{id}    DELETE /api/people/{id} (204)

with `Authorization: Bearer TOKEN` on every request and `{"error": "..."}` bodies on refusals.
A person is `{"id", "given_name", "family_name", "email", "team", "active"}`.

The package ships three things, each registered under the same entry point name (pyproject.toml):
the adapter (adapter.py), its mapping (tinyhr.toml, found through the `staffbridge.mappings` entry
point) and an emulator for tests and `staffbridge sandbox tinyhr` (sandbox.py).
"""
