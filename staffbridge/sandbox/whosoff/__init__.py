"""WhosOff API v4 user endpoints, emulated: the nonce/SHA-512 handshake, then Bearer + `app-id` calls.

validation.py holds the write model and its checks, backend.py the account's state and rules (no HTTP),
routes.py the URLs, the envelope, JSON rendering and the error answers.

Routes sit right below the root the adapter is given (`base_url=sb.url`), trailing slash optional:

    POST   /v4/authenticate/with-credentials     (also /authenticate/with-credentials, as the cURL shows)
    POST   /v4/user/create                       GET  /v4/user/get-by-id/{user_id}
    POST   /v4/user/retrieve, /v4.1/user/retrieve GET  /v4/user/get-my-details
    PUT    /v4/user/update   (user_id in the body) DELETE /v4/user/del/{user_id}
    POST   /v4/user/unlock/{user_id}             GET  /v4/user/get-approvers
    POST   /v4/user/my-staff

Every answer is the standard envelope `{"Data": ..., "Errors": [{"Code": "...", "Message": "..."}]}`.
The docs document only 200, 400 ("rejected, error message via JSON") and 404 ("endpoint not valid"),
so every refusal here is a 400 with a code, and 404 is kept for unknown endpoints (also for a known
path with the wrong method). Codes are strings; "004a" and "00422" are WhosOff's own, the rest are
the sandbox's invention:

    0400 authenticate body malformed or a field missing   0410 no `Authorization: Bearer` header
    0401 username or password wrong                       0411 access token unknown
    0402 secret is not sha512(nonce + client_secret)      0412 access token expired
    0403 nonce already used                               0413 user level too low for this call
    0405 app-id header missing or wrong                   0404 endpoint not valid (HTTP 404)
    0406 ip_address not in the allowed list               0429 too many requests (test-only limit)
    0407 account locked (too many failed log-ins)         0408 account disabled
    0200 body is not a JSON object                        0204 text length out of range
    0201 required field missing                           0205 referenced record does not exist
    0202 wrong type (not a whole number / a date)         0206 email_contact already in use
    0203 value not allowed (enum or range)                0300 user not found, 0301 cannot delete yourself
    00422 user limit reached (`backend.user_limit`)       004a no allowances set: a warning beside
                                                               200 Data, only if `backend.warn_missing_allowances`

Where the docs are silent, the sandbox decides (and an adapter must cope with exactly this):
- Wire types follow the read schemas: `Int32`/`Int16`/`[Byte]` fields (user_id, department_id,
  region_id, approver_id, notifier_*_id, default_view_id, default_sorting_id, mfa_method_id,
  allowance minutes) are JSON numbers; "custom" enums (status_id, user_type_id, email_type_id,
  allowance_type_id, default_view_type_id, *_role_id) are strings ("100", "1"). Requests may send
  either "123456" or 123456, as the samples send strings.
- Dates are "YYYY-MM-DD" (input also accepts a full ISO datetime); DateTimes (token_expiry_date,
  login_date, lockout_date) are UTC "YYYY-MM-DDTHH:MM:SSZ". Unset dates are null, despite the
  boilerplate `is_nullable: false`.
- The secret is sha512(nonce + client_secret), lower-case hex by default (`secret_encoding`: "hex",
  "HEX" or "base64"), compared exactly. A nonce is spent as soon as it is seen, even if the handshake
  then fails. Tokens from the handshake expire after `token_lifetime`; a fixed `access_token` given to
  the constructor (the "ready access token" way) belongs to the admin and does not expire.
- The authenticating admin (`username`) is a real super user (type "300") in the directory, so
  retrieve lists `seed_people + 1` users. Sample person n has user_id 1000001 + n.
  Users created through the API can log in with their email_contact and password; seeded staff
  cannot. Departments are people.DEPARTMENTS as 123456.., regions 2001-2003 (DE, CH, AT), tags
  3001.. (people.TAGS, for retrieve map_type 2). user_type_id comes from the sample role
  (Teamleitung "200", Administrator "300", else "100"); the first team lead of each department
  approves it, the admin approves the team leads.
- Create requires first_name, last_name (1-100 chars; the docs' table is cut there), user_type_id,
  default_view_type_id, department_id, approver_id, notifier_2_id, notifier_3_id (0 = none),
  email_contact, password, email_type_id and allowance_type_id; region_id and the *_role_id fields
  are optional (default 0), as in the docs' parameter table.
- Update is a full replace of the update model (the create fields minus allowance_type_id and
  allowances, as in the update sample): required fields must be there, and an optional field left
  out is reset to its default. Password alone is kept when absent (no read returns it, so a
  read-merge-write client cannot resend it). Unknown fields (a merged get-by-id record) are ignored.
- retrieve: `last_name` is a case-insensitive prefix filter; map_type 0 ignores map_id, 4 ("my
  staff") uses the caller; results are ordered by user_id. get-approvers lists active users of type
  200 and up. Deleting a user resets references to them (approver/notifier ids) to 0.
- Five failed log-ins lock an account (`lockout_date`); unlock clears it. Seeded person n is locked
  when n % 40 == 39, so unlock has something to do.
"""

from staffbridge.sandbox.whosoff.backend import (
    ADMIN_USER_ID,
    FIRST_DEPARTMENT_ID,
    REGIONS,
    TAG_IDS,
    Token,
    User,
    WhosOffBackend,
)
from staffbridge.sandbox.whosoff.routes import WhosOffSandbox, envelope
from staffbridge.sandbox.whosoff.validation import WhosOffError

__all__ = [
    "ADMIN_USER_ID",
    "FIRST_DEPARTMENT_ID",
    "REGIONS",
    "TAG_IDS",
    "Token",
    "User",
    "WhosOffBackend",
    "WhosOffError",
    "WhosOffSandbox",
    "envelope",
]
