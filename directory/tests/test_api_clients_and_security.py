import datetime
import json

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from conftest import DEMO_PASSWORD
from directory import services
from directory.models import AdministrativeDivision, ApiRequestLog, ApiToken, Notification, Organization, User
from directory.services import DivisionImportError


def test_bank_officer_issues_a_client_whose_secret_is_shown_once(client, bank_officer):
    client.force_login(bank_officer)
    bank = bank_officer.active_memberships[0].organization
    response = client.post("/directory/api-clients/", {"organization": bank.pk, "name": "信贷系统"})
    html = response.content.decode()
    token = ApiToken.objects.get(name="信贷系统")
    secret = html.split('<code class="d-block mt-2 fs-6 user-select-all">')[1].split("</code>")[0]
    assert secret.startswith(token.prefix) and response["Cache-Control"] == "no-store"
    assert secret not in client.get("/directory/api-clients/").content.decode()  # shown once
    assert token.user.is_service_account and token.organization == bank and token.created_by == bank_officer

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/directory/me/").json()["memberships"][0]["role"] == "bank_officer"
    log = ApiRequestLog.objects.get()
    assert (log.organization, log.path, log.status_code, log.method) == (
        bank,
        "/api/v1/directory/me/",
        200,
        "GET",
    )


def test_client_of_another_bank_is_invisible_and_cannot_be_revoked(bank_officer, city_admin):
    other_bank = services.create_organization(
        actor=city_admin,
        name="他行",
        kind="bank",
        division=bank_officer.active_memberships[0].organization.division,
    )
    token, _raw = services.issue_api_client(organization=other_bank, name="他行系统", issued_by=city_admin)
    api = APIClient()
    api.force_authenticate(bank_officer)
    assert token.pk not in [row["id"] for row in api.get("/api/v1/directory/api-clients/").json()["results"]]
    assert api.post(f"/api/v1/directory/api-clients/{token.pk}/revoke/").status_code == 404
    response = api.post(
        "/api/v1/directory/api-clients/", {"organization": other_bank.pk, "name": "冒名"}, format="json"
    )
    assert response.status_code == 403
    assert ApiToken.objects.filter(organization=other_bank).count() == 1


def test_revoked_client_stops_working(bank_officer):
    bank = bank_officer.active_memberships[0].organization
    api = APIClient()
    api.force_authenticate(bank_officer)
    created = api.post(
        "/api/v1/directory/api-clients/",
        {
            "organization": bank.pk,
            "name": "押品系统",
            "expires_at": (timezone.now() + datetime.timedelta(days=30)).isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"
    secret = created.json()["secret"]
    assert api.get("/api/v1/directory/api-clients/").json()["results"][0]["secret"] is None
    assert api.post(f"/api/v1/directory/api-clients/{created.json()['id']}/revoke/").json()["revoked_at"]
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert machine.get("/api/v1/directory/me/").status_code == 401


def test_only_banks_guarantors_and_departments_get_clients(city_admin, county_cooperative):
    with pytest.raises(services.DomainError, match="只有银行、担保机构和政府部门"):
        services.issue_api_client(organization=county_cooperative, name="x", issued_by=city_admin)
    assert not ApiToken.objects.exists()


def test_a_department_client_acts_as_a_department_officer(city_admin, demo_region):
    from directory.models import Organization, OrganizationKind, Role
    from directory.permissions import Capability, can

    forestry = Organization.objects.get(kind=OrganizationKind.GOVERNMENT, name="莲都区林业局（演示）")
    token, _secret = services.issue_api_client(
        organization=forestry, name="林业数据交换", issued_by=city_admin
    )
    [membership] = token.user.active_memberships
    assert (membership.organization, membership.role) == (forestry, Role.DEPARTMENT_OFFICER)
    assert can(token.user, Capability.EXCHANGE_DATA, division=forestry.division)
    assert not can(token.user, Capability.VIEW, division=forestry.division)


def test_api_throttling_answers_429_in_the_error_format(bank_officer, monkeypatch):
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"})
    api = APIClient()
    api.force_authenticate(bank_officer)
    statuses = [api.get("/api/v1/directory/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    body = api.get("/api/v1/directory/me/").json()
    assert body["code"] == "throttled" and body["fields"] == {}
    cache.clear()


def test_repeated_failed_logins_lock_the_account_at_that_address(client, demo_region):
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"username": "city_admin", "password": "wrong"}, REMOTE_ADDR="10.9.9.9"
        )
    response = client.post(
        "/accounts/login/", {"username": "city_admin", "password": DEMO_PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The real user elsewhere is not locked out.
    response = client.post(
        "/accounts/login/", {"username": "city_admin", "password": DEMO_PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )
    assert response.status_code == 302


def test_notifications_inbox_unread_badge_and_email(
    client, city_admin, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    city_admin.email = "admin@coop.example"
    city_admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[city_admin], title="公示期结束", body="资产已登记", link="/", email=True)
    assert mail.outbox[0].subject == "公示期结束" and mail.outbox[0].to == ["admin@coop.example"]
    client.force_login(city_admin)
    html = client.get("/").content.decode()
    assert 'id="unread-count">1<' in html
    assert "公示期结束" in client.get("/directory/inbox/").content.decode()
    client.post("/directory/inbox/read/")
    assert Notification.objects.get().read_at is not None
    assert 'id="unread-count"' not in client.get("/").content.decode()


def test_notifications_are_private(city_admin, county_staff):
    services.notify(recipients=[city_admin], title="仅管理员可见")
    api = APIClient()
    api.force_authenticate(county_staff)
    assert api.get("/api/v1/directory/notifications/").json()["results"] == []


SQUARE = [[[119.90, 28.40], [119.95, 28.40], [119.95, 28.45], [119.90, 28.45], [119.90, 28.40]]]
BOWTIE = [[[119.90, 28.40], [119.95, 28.45], [119.95, 28.40], [119.90, 28.45], [119.90, 28.40]]]


def _collection(*features, crs=None):
    data = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(data)


def _feature(code, rings, kind="Polygon"):
    return {"type": "Feature", "properties": {"code": code}, "geometry": {"type": kind, "coordinates": rings}}


def test_boundary_import_sets_geometry_and_area(demo_region):
    assert (
        services.import_division_boundaries(text=_collection(_feature("331102", SQUARE), crs="EPSG:4490"))
        == 1
    )
    division = AdministrativeDivision.objects.get(code="331102000000")
    assert division.boundary.geom_type == "MultiPolygon" and division.boundary.srid == 4490
    from django.contrib.gis.db.models.functions import Area, Transform

    area = (
        AdministrativeDivision.objects.annotate(a=Area(Transform("boundary", 4549)))
        .get(pk=division.pk)
        .a.sq_m
    )
    # 0.05° × 0.05° at 28.425°N: 4.895 km (0.05 × 111.32 km × cos 28.425°) × 5.543 km ≈ 27.13 km²
    assert 27_000_000 < area < 27_300_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_collection(_feature("331102", SQUARE), _feature("331121", BOWTIE)), "几何无效"),
        (_collection(_feature("331102", SQUARE), crs="EPSG:3857"), "不支持的坐标系"),
        (_collection(_feature("331199", SQUARE)), "区划 331199000000 不存在"),
        (
            _collection(
                _feature(
                    "331102", [[[500000, 3100000], [500100, 3100000], [500100, 3100100], [500000, 3100000]]]
                )
            ),
            "超出中国范围",
        ),
        (_collection(_feature("331102", SQUARE, kind="Point")), "Polygon 或 MultiPolygon"),
        ("{not json", "不是有效的 JSON"),
        (_collection(_feature("331102", SQUARE), _feature("331102", SQUARE)), "重复出现"),
    ],
)
def test_bad_boundaries_are_reported_and_nothing_is_written(demo_region, text, message):
    with pytest.raises(DivisionImportError) as excinfo:
        services.import_division_boundaries(text=text)
    assert message in str(excinfo.value)
    assert not AdministrativeDivision.objects.filter(boundary__isnull=False).exists()


def test_web_import_reports_rows_in_chinese(client, city_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(city_admin)
    upload = SimpleUploadedFile(
        "towns.csv",
        "code,name,level,parent_code\n331102001,好街道,township,331102\n331102002,坏街道,township,339900\n".encode(),
    )
    response = client.post("/directory/divisions/import/", {"file": upload})
    html = response.content.decode()
    assert response.status_code == 400 and "第3行：上级区划 339900000000 不存在" in html
    assert not AdministrativeDivision.objects.filter(code="331102001000").exists()


def test_division_cycle_is_impossible(demo_region):
    before = list(AdministrativeDivision.objects.values_list("code", "parent__code"))
    with pytest.raises(DivisionImportError, match="不应有上级"):
        services.import_divisions_csv(text="code,name,level,parent_code\n330000,浙江省,province,331100\n")
    with pytest.raises(DivisionImportError, match="级别必须高于本级"):
        services.import_divisions_csv(text="code,name,level,parent_code\n331100,丽水市,city,331102\n")
    assert list(AdministrativeDivision.objects.values_list("code", "parent__code")) == before


def test_only_import_capable_roles_may_import(client, county_staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(county_staff)
    upload = SimpleUploadedFile("x.csv", b"code,name,level,parent_code\n331102001,a,township,331102\n")
    assert client.post("/directory/divisions/import/", {"file": upload}).status_code == 403
    assert (
        Organization.objects.exists()
        and not AdministrativeDivision.objects.filter(code="331102001000").exists()
    )
    assert User.objects.filter(username="coop_staff").exists()


def test_division_import_through_the_api(city_admin, county_staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = APIClient()
    api.force_authenticate(city_admin)
    good = SimpleUploadedFile(
        "t.csv", b"code,name,level,parent_code\n331102001,\xe8\xa1\x97\xe9\x81\x93,township,331102\n"
    )
    assert api.post("/api/v1/directory/divisions/import/", {"file": good}, format="multipart").json() == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
    }
    bad = SimpleUploadedFile("t.csv", b"code,name,level,parent_code\n331102002,a,township,339900\n")
    response = api.post("/api/v1/directory/divisions/import/", {"file": bad}, format="multipart")
    body = response.json()
    assert response.status_code == 400 and body["code"] == "division_import_failed"
    assert body["fields"]["rows"] == [{"line": 2, "message": "上级区划 339900000000 不存在。"}]
    assert api.post("/api/v1/directory/divisions/import/", {}, format="multipart").json()["fields"]["file"]
    staff = APIClient()
    staff.force_authenticate(county_staff)
    again = SimpleUploadedFile("t.csv", b"code,name,level,parent_code\n331102003,b,township,331102\n")
    assert (
        staff.post("/api/v1/directory/divisions/import/", {"file": again}, format="multipart").status_code
        == 403
    )
    assert not AdministrativeDivision.objects.filter(code__in=["331102002000", "331102003000"]).exists()
