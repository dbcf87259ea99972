"""Emulator of the v2 field-service users API (VENDORS.md section 2): a backend (state) plus routes.

schema.py holds the user document's schema and its checks, backend.py the users as the vendor's
database would hold them (no HTTP), routes.py the URLs, NestJS-shaped answers and paging.

Only `POST /v2/users/` is documented (seed 002): header `x-API-Key`, a nested user document as body,
answer `{"_id": "<objectid>"}` and nothing else. Everything else here is an inference for a NestJS +
MongoDB backend and is kept configurable where the adapter has a setting for it:

- Routes: `GET /v2/users/` (list), `GET /v2/users/{_id}`, `PATCH /v2/users/{_id}` (deep merge of the
  nested objects; `update_verb="PUT"` swaps it for a PUT that replaces the document), `DELETE
  /v2/users/{_id}`. The trailing slash is optional everywhere. Create answers 201, update 200 with the
  whole updated user, delete 200 with the deleted user. A wrong method on a known path is a 404
  `Cannot PUT /v2/users/...`, as Express answers under NestJS.
- Errors are NestJS-shaped: `{"statusCode", "message", "error"}`. Validation failures are 400 with
  `message` a list of class-validator-style sentences naming the field path (`general.birthDate must
  be ...`); a duplicate `access.email` is one more such sentence. Properties the schema does not know
  are refused (`property foo should not exist`, i.e. whitelist + forbidNonWhitelisted), so a client
  that sends canonical names instead of vendor paths hears about it. `null` is accepted anywhere
  (class-validator's IsOptional). A malformed `_id` in a path is 400, an unknown one 404. Missing or
  wrong key: 401. Rate limiting: 429 `ThrottlerException: Too Many Requests`.
- Server-owned fields are silently ignored when a client sends them: `_id`, `number`, `companyId`,
  `status`, `chatId`, `access.token`, `access.loginTries`, `implementation`, `analytics`. The server
  fills them itself; updates bump `status.lastModifiedAt` / `lastModifiedBy`. `status.status` is 1 for
  an active user and 0 for an inactive one (seeded users only: no route changes it).
- `access.password` is write-only: stored apart from the document and never returned. A PUT without a
  password keeps the old one, because a client cannot send back what it never read.
- Dates: `general.birthDate` stays `DD.MM.YYYY` and must be a real date. Every other timestamp is
  ISO-8601; one already in UTC with `Z` is kept as sent, others (offsets, date only) are stored
  converted to UTC with `Z`. Timestamps the server sets carry milliseconds, as JavaScript writes them.
- `id` (the login id) is declared a number but documented with the example "36920": both are accepted
  and kept as sent. Seeded users hold a mix of both.
- Lists are ordered by `number`. `pagination="none"` returns the whole array; `"page"` reads
  `?page=N&limit=M` (1-based pages) and `"skip"` reads `?skip=N&limit=M`; both paged modes answer the
  bare array plus an `X-Total-Count` header, so only the query differs. `limit` defaults to
  `page_size`.

Seeded users are the shared sample staff (people.py): person n gets `number` n+1 (the digits of its
employee number), a deterministic `_id`, `contract.department` set to the department name and
`accessGroupId` to a slug of its role (ACCESS_GROUPS). People without tags have `tags: null`. Seeded
documents hold only what people.py knows (no `implementation` / `analytics`), like records imported
before those fields existed; that also keeps 100,000 of them affordable in memory.
"""

from staffbridge.sandbox.fieldservice.backend import (
    ACCESS_GROUPS,
    API_USER_ID,
    COMPANY_ID,
    FIRST_LOGIN_ID,
    FieldServiceBackend,
    UserNotFound,
    ValidationFailed,
)
from staffbridge.sandbox.fieldservice.routes import FieldServiceSandbox

__all__ = [
    "ACCESS_GROUPS",
    "API_USER_ID",
    "COMPANY_ID",
    "FIRST_LOGIN_ID",
    "FieldServiceBackend",
    "FieldServiceSandbox",
    "UserNotFound",
    "ValidationFailed",
]
