"""Answers the sandbox does not give by itself (HTML under 200, bare payloads, errors under 200, a
token without expiry), served over real HTTP by a test-only subclass that swaps single answers."""

import pytest

import staffbridge
from staffbridge import AuthenticationError, ResponseError, VendorValidationError
from staffbridge.sandbox.server import Response, json_response
from staffbridge.sandbox.whosoff import ADMIN_USER_ID, WhosOffSandbox

APP_ID, CLIENT_SECRET, PASSWORD = "odd-app", "odd-client-secret", "odd-password"


class OddWhosOff(WhosOffSandbox):
    """Answers from `odd[route]` (a list, used up in order) instead of the real handler."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.odd: dict[str, list] = {}
        # WhosOff's department controller, which the bundled sandbox does not emulate
        self.routes.add("GET", r"/v4/department/retrieve", self._guard(self.department_retrieve))

    def department_retrieve(self, request, caller):
        return json_response(
            {
                "Data": [
                    {"department_id": ident, "name": name, "min_user": 0}
                    for ident, name in self.backend.departments.items()
                ],
                "Errors": [],
            }
        )

    def _swap(self, route, real, request, caller):
        queue = self.odd.get(route)
        if queue:
            answer = queue.pop(0)
            return answer(real(request, caller)) if callable(answer) else answer
        return real(request, caller)

    def handshake(self, request, caller):
        return self._swap("handshake", super().handshake, request, caller)

    def get_my_details(self, request, caller):
        return self._swap("me", super().get_my_details, request, caller)

    def retrieve(self, request, caller):
        return self._swap("retrieve", super().retrieve, request, caller)


@pytest.fixture
def sb():
    with OddWhosOff(seed_people=5, app_id=APP_ID, client_secret=CLIENT_SECRET, password=PASSWORD) as sandbox:
        yield sandbox


@pytest.fixture
def wo(sb):
    with staffbridge.connect(
        "whosoff",
        base_url=sb.url,
        app_id=APP_ID,
        username="admin@example.com",
        password=PASSWORD,
        client_secret=CLIENT_SECRET,
        max_retries=0,
    ) as adapter:
        yield adapter


def html(status=200):
    return Response(status, "<!DOCTYPE html><html><body>Maintenance</body></html>", {"Content-Type": "text/html"})


def with_data(change):
    """Rewrites the real JSON answer."""

    def rewrite(response):
        return json_response(change(response.body), response.status)

    return rewrite


def test_an_html_page_under_200_is_a_response_error(sb, wo):
    sb.odd["me"] = [html()]
    with pytest.raises(ResponseError) as info:
        wo.me()
    assert "HTML" in str(info.value) and info.value.status == 200
    sb.odd["retrieve"] = [html()]
    with pytest.raises(ResponseError):
        list(wo.list())
    sb.odd["me"] = [html(400)]
    with pytest.raises(ResponseError):
        wo.me()


@pytest.mark.parametrize("body", [b"", b"null", b'"text"', b'{"Data": ', b"\xff\xfe"])
def test_unreadable_bodies_are_response_errors(sb, wo, body):
    sb.odd["me"] = [Response(200, body, {"Content-Type": "application/json"})]
    with pytest.raises(ResponseError):
        wo.me()


def test_bare_payloads_and_data_arrays_are_read(sb, wo):
    sb.odd["me"] = [with_data(lambda b: b["Data"]), with_data(lambda b: {"Data": [b["Data"]], "Errors": []})]
    assert wo.me().id == str(ADMIN_USER_ID)
    assert wo.me().id == str(ADMIN_USER_ID)
    sb.odd["retrieve"] = [with_data(lambda b: b["Data"]), with_data(lambda b: {"Data": b["Data"][0]})]
    assert len(list(wo.list())) == 6
    assert [p.id for p in wo.list()] == [str(ADMIN_USER_ID)]


def test_errors_under_200_are_typed_errors_with_every_code(sb, wo):
    errors = [{"Code": "9001", "Message": "first problem"}, {"Code": "9002", "Message": "second problem"}]
    sb.odd["me"] = [with_data(lambda b: {**b, "Errors": errors})]
    with pytest.raises(VendorValidationError) as info:
        wo.me()
    assert info.value.status == 200 and info.value.codes == ["9001", "9002"]
    assert "first problem" in str(info.value) and "second problem" in str(info.value)


def test_errors_after_streamed_records_come_at_the_end(sb, wo):
    sb.odd["retrieve"] = [with_data(lambda b: {"Data": b["Data"], "Errors": [{"Code": "9003", "Message": "late"}]})]
    seen = []
    with pytest.raises(VendorValidationError) as info:
        for person in wo.list():
            seen.append(person)
    assert len(seen) == 6 and info.value.codes == ["9003"]


def test_a_token_refusal_under_200_is_refreshed_too(sb, wo):
    wo.me()
    expired = json_response({"Data": None, "Errors": [{"Code": "0412", "Message": "access token has expired"}]})
    sb.odd["me"] = [expired]
    sb.odd["retrieve"] = [expired]
    assert wo.me().id == str(ADMIN_USER_ID)
    assert len(list(wo.list())) == 6
    assert wo.tokens.handshakes == 3


def test_a_token_without_expiry_is_used_and_renewed_when_refused(sb, wo):
    sb.odd["handshake"] = [
        with_data(lambda b: {**b, "Data": {**b["Data"], "token": {"access_token": b["Data"]["token"]["access_token"]}}})
    ]
    assert wo.me().id == str(ADMIN_USER_ID)
    assert wo.me().id == str(ADMIN_USER_ID) and wo.tokens.handshakes == 1
    sb.backend.expire_tokens()
    assert wo.me().id == str(ADMIN_USER_ID) and wo.tokens.handshakes == 2


@pytest.mark.parametrize(
    "answer",
    [
        html(),
        json_response({"Data": {"token": {"token_expiry_date": "2030-01-01T00:00:00Z"}}, "Errors": []}),
    ],
)
def test_a_handshake_answer_without_a_token_is_an_error(sb, wo, answer):
    sb.odd["handshake"] = [answer]
    with pytest.raises(ResponseError):
        wo.me()


def test_a_handshake_refused_under_200_is_an_authentication_error(sb, wo):
    sb.odd["handshake"] = [json_response({"Data": None, "Errors": [{"Code": "X", "Message": "no"}]})]
    with pytest.raises(AuthenticationError) as info:
        wo.me()
    assert info.value.codes == ["X"] and wo.tokens.handshakes == 0


def test_a_400_without_the_envelope_still_says_why(sb, wo):
    sb.odd["me"] = [
        json_response({"message": "Bad things"}, 400),
        json_response(
            {
                "title": "One or more validation errors occurred.",
                "status": 400,
                "errors": {"staff_filter": ["must be a number"]},
            },
            400,
        ),
    ]
    with pytest.raises(VendorValidationError) as info:
        wo.me()
    assert "Bad things" in str(info.value) and info.value.status == 400
    with pytest.raises(VendorValidationError) as info:
        wo.me()
    assert "staff_filter: must be a number" in str(info.value)


def test_departments_come_from_the_department_controller_when_there_is_one(sb, wo):
    sb.backend.departments[424242] = "Raumfahrt"  # nobody works there yet
    assert "Raumfahrt" in [ref.name for ref in wo.departments()]
    assert list(wo.list(department="Raumfahrt")) == []
    created = wo.create(
        staffbridge.Person(
            first_name="Juri",
            last_name="Gagarin",
            email="juri@example.com",
            department=staffbridge.Ref(name="raumfahrt"),
        )
    )
    assert created.department == staffbridge.Ref("424242", "Raumfahrt")  # the vendor's spelling
    assert sb.backend.users[int(created.id)].department_id == 424242
    # one retrieve: the list itself; names were resolved from the department controller alone
    assert [path for _, path in sb.requests].count("/v4/user/retrieve") == 1


def test_without_a_department_controller_departments_come_from_users():
    with WhosOffSandbox(seed_people=5, app_id=APP_ID, client_secret=CLIENT_SECRET, password=PASSWORD) as plain:
        settings = dict(
            base_url=plain.url,
            app_id=APP_ID,
            username="admin@example.com",
            password=PASSWORD,
            client_secret=CLIENT_SECRET,
        )
        with staffbridge.connect("whosoff", **settings) as wo:
            assert "Vertrieb" in [ref.name for ref in wo.departments()]
        assert ("GET", "/v4/department/retrieve") in plain.requests
        with (
            staffbridge.connect("whosoff", department_lookup="department_api", **settings) as wo,
            pytest.raises(staffbridge.NotFound),
        ):
            wo.departments()
        plain.requests.clear()
        with staffbridge.connect("whosoff", department_lookup="users", **settings) as wo:
            assert "Vertrieb" in [ref.name for ref in wo.departments()]
        assert ("GET", "/v4/department/retrieve") not in plain.requests
