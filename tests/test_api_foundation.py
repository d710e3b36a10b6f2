"""API root, OpenAPI schema, docs served locally, token auth and the common error format."""

import datetime

import pytest
from django.utils import timezone
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from directory.models import ApiToken
from directory.services import issue_api_token, revoke_api_token


@pytest.fixture
def api():
    return APIClient()


def _assert_error(response, status, code):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == code
    assert body["detail"]
    return body


def test_schema_is_valid_openapi_3(api, db):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)  # raises on an invalid document
    assert "/api/v1/directory/divisions/" in schema["paths"]
    assert "TokenAuth" in str(schema["components"]["securitySchemes"]) or "tokenAuth" in str(
        schema["components"]["securitySchemes"]
    )


def test_docs_use_local_assets_only(api, db):
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = api.get(url).content.decode()
        assert "drf_spectacular_sidecar" in html, url
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html, url


def test_root_lists_resources(api, db):
    body = api.get("/api/v1/").json()
    assert body["schema"].endswith("/api/v1/schema/")
    assert body["divisions"].endswith("/api/v1/directory/divisions/")


def test_unauthenticated_request_gets_structured_401(api, db):
    body = _assert_error(api.get("/api/v1/directory/divisions/"), 401, "not_authenticated")
    assert body["fields"] == {}


def test_token_authentication(api, city_admin):
    token, raw = issue_api_token(user=city_admin, name="测试")
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    response = api.get("/api/v1/directory/divisions/")
    assert response.status_code == 200
    assert response.json()["count"] == 12  # Lishui city, its nine counties, a demo township and village
    token.refresh_from_db()
    assert token.last_used_at is not None
    # Only the digest is stored.
    assert not ApiToken.objects.filter(digest=raw).exists()
    assert raw not in str(ApiToken.objects.values_list().get(pk=token.pk))


def test_revoked_expired_and_unknown_tokens_are_refused(api, city_admin):
    revoked, revoked_raw = issue_api_token(user=city_admin, name="revoked")
    revoke_api_token(token=revoked, revoked_by=city_admin)
    expiring, expiring_raw = issue_api_token(
        user=city_admin, name="expiring", expires_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    ApiToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    for raw, message in ((revoked_raw, "令牌已撤销"), (expiring_raw, "令牌已过期"), ("nonsense", "令牌无效")):
        api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        body = _assert_error(api.get("/api/v1/directory/divisions/"), 401, "authentication_failed")
        assert message in body["detail"]


def test_token_cannot_be_issued_already_expired(city_admin):
    from tmcs.errors import DomainError

    with pytest.raises(DomainError, match="过期时间"):
        issue_api_token(user=city_admin, name="past", expires_at=timezone.now() - datetime.timedelta(days=1))
    assert not ApiToken.objects.exists()


def test_invalid_filter_gives_field_errors(api, city_admin):
    api.force_authenticate(city_admin)
    body = _assert_error(api.get("/api/v1/directory/divisions/?level=galaxy"), 400, "invalid")
    assert "level" in body["fields"]


def test_unknown_api_path_is_json_404(api, city_admin):
    api.force_authenticate(city_admin)
    _assert_error(api.get("/api/v1/directory/divisions/999999999999/"), 404, "not_found")
    _assert_error(api.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_page_size_is_capped(api, city_admin):
    api.force_authenticate(city_admin)
    response = api.get("/api/v1/directory/divisions/?page_size=100000")
    assert response.status_code == 200
    from tmcs.api.pagination import PageNumberPagination

    assert PageNumberPagination.max_page_size == 500
    assert len(response.json()["results"]) == 12


def test_division_list_queries_do_not_grow_with_rows(api, city_admin, django_assert_max_num_queries):
    api.force_authenticate(city_admin)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/directory/divisions/")
    assert response.json()["results"][1]["parent_code"] == "331100000000"
