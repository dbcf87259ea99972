"""MOCO users API emulator (https://{domain}.mocoapp.com/api/v1): a backend (state) plus routes.

records.py holds the stored records, values.py how MOCO casts and checks values, backend.py the state
and its rules (no HTTP), routes.py the URLs, request parsing, JSON rendering and error bodies.

What it serves, below `sb.url` (= `http://127.0.0.1:PORT/api/v1`):

    GET /session                         {id, uuid} for a valid key
    GET /users, POST /users              list (paginated, filtered) / create
    GET|PUT|DELETE /users/{id}           one user; DELETE refused while hours are billed
    GET /users/{id}/performance_report   ?year=
    GET /users/roles                     permission roles
    GET|POST /users/employments, GET|PUT|DELETE /users/employments/{id}
    GET|POST /units, GET|PUT|DELETE /units/{id}
    GET|POST /account/web_hooks, GET|PUT|DELETE /account/web_hooks/{id}, PUT .../{id}/enable|disable
                                         subscriptions; user changes are sent to them signed (web_hooks.py)

Faithful to the documentation and to real recordings (see VENDORS.md §1):
- Auth `Authorization: Token token=KEY` (quoted or not) or `Bearer KEY`; anything else is 401.
- Read and write names differ: read `extern`, `birthday`, `unit{id,name}`, `role{id,name}`, `avatar_url`;
  write `external`, `bday`, `unit_id`, `role_id`, `avatar{filename,base64}`. Read names sent on a write are
  ignored, as Rails ignores unpermitted params, so a client using the wrong name silently loses the value.
  `password`, `language` and `welcome_email` are write-only.
- POST /users answers 200 (not 201) with the full user; the email is lower-cased. Unset text fields read
  as "", `birthday`/`avatar_url` as null, `tags` as [], `custom_properties` as {}.
- DELETE answers 204 with an empty body. Timestamps are UTC, second precision, "2018-10-17T09:33:46Z".
- Pagination: 100 per page, `page` param, `X-Page`/`X-Per-Page`/`X-Total`, and
  `Link: <...users.json?...&page=N+1>; rel="next"` only when a next page exists. The link is absolute
  and carries `.json` and every other query param, like the documented example; every route therefore
  also answers with a `.json` suffix, as a Rails route does. A page past the end is an empty array.
  `lowercase_headers=True` sends all header names lower-case, as the 2023 recordings (HTTP/2) show.
- Employments: POST answers 200; `weekly_target_hours` is computed; pattern values come back as floats.
- Units embed every assigned user (deactivated ones too), ordered by lastname, firstname, as recorded.

Where MOCO is silent, the plausible choice (clients must not depend on these):
- Every error body is `{"message": "..."}` (the format is undocumented; moco-ruby reads `message`).
- A POST/PUT body without `Content-Type: application/json` is refused with 415; a body that is not a
  JSON object is 400.
- Validation failures are 422 naming the fields: "firstname can't be blank, email has already been taken".
  Booleans are cast as Rails casts them ("false", "0", "f", "off", 0 are false).
- Deleting a user with billed hours (`backend.mark_billed(id)`) is 422; deleting a unit with users is 422.
- `tags` filter: comma-separated, a user matches when it has ANY of them (case-insensitive).
- `updated_after` is strictly after; an unparsable value is 422. `ids` ignores non-numeric entries.
- `custom_properties[Name]=v` matches exactly (MultiSelect lists: contains; booleans: "true"/"false");
  `custom_properties[Name][]=a&...[]=b` needs all values; an unknown property name gives an empty list.
  Custom fields are "defined" by first use on any user (a real account defines them in its settings).
  Writing `custom_properties` merges into the stored ones; a null value removes that field.
- `sort_by=field [asc|desc]` sorts by any read field (unit/role by name, nulls last ascending); an
  unknown field is ignored. Without it, lists are in id order (MOCO's own default order is unspecified).
- `per_page`/`limit` query params are ignored (undocumented); the constructor's `per_page` exists for tests.
- PATCH is accepted wherever PUT is (Rails `resources` routes both); an unknown method is 404, as Rails.
- Employment list `from`/`to` select employments overlapping that range; neither is required (the real
  API answered without `from` in a recording, although the docs say it is required).
- The API key belongs to an account-level key holder that is not listed in /users.
- Performance reports are derived from the user's employments and fixed public holidays (Jan 1,
  May 1, Oct 3, Dec 25/26); tracked and billable hours are deterministic per user, month and year.
- `avatar_url` points at `{sandbox root}/system/avatars/{id}/{filename}`, which is not served.

State changes go through MocoBackend methods, which bump `backend.version`; the routes cache list
results per query and version, so paging through 100,000 users does not rescan them for every page.
"""

from staffbridge.sandbox.moco.backend import MocoBackend
from staffbridge.sandbox.moco.records import (
    EMPLOYMENT_ID_BASE,
    KEY_HOLDER_ID,
    ROLE_ID_BASE,
    UNIT_ID_BASE,
    USER_ID_BASE,
    Employment,
    RecordInvalid,
    RecordNotFound,
    Role,
    Unit,
    User,
)
from staffbridge.sandbox.moco.routes import MocoSandbox, render_employment, render_role, render_unit, render_user

__all__ = [
    "EMPLOYMENT_ID_BASE",
    "KEY_HOLDER_ID",
    "ROLE_ID_BASE",
    "UNIT_ID_BASE",
    "USER_ID_BASE",
    "Employment",
    "MocoBackend",
    "MocoSandbox",
    "RecordInvalid",
    "RecordNotFound",
    "Role",
    "Unit",
    "User",
    "render_employment",
    "render_role",
    "render_unit",
    "render_user",
]
