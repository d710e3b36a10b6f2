import pytest
from rest_framework.test import APIClient

from directory import services
from directory.models import AdministrativeDivision, Membership, Organization, Party, User
from directory.services import PermissionDeniedError
from tmcs.errors import ConflictError

VALID_USCC = "91331100MA2A1B3C2R"


@pytest.fixture
def lianduqu(demo_region):
    return AdministrativeDivision.objects.get(code="331102000000")


@pytest.fixture
def api_as():
    def make(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return make


def test_create_organization_normalizes_uscc_and_masks_phone(city_admin, lianduqu):
    organization = services.create_organization(
        actor=city_admin,
        name="碧湖生态农业公司",
        kind="enterprise",
        division=lianduqu,
        uscc=VALID_USCC.lower(),
        contact_phone="0578-2123456",
    )
    assert organization.uscc == VALID_USCC
    assert organization.contact_phone_masked == "0578-21***56"
    assert "2123456" not in organization.contact_phone_ciphertext
    assert Party.objects.get(organization=organization).kind == "organization"


@pytest.mark.parametrize(
    ("uscc", "message"),
    [("91331100MA2A1B3C2Q", "校验位不正确"), ("91331100MA2A1B3C2S", "不允许的字符"), ("9133", "应为18位")],
)
def test_bad_uscc_in_api_is_a_field_error_and_nothing_is_written(api_as, city_admin, uscc, message):
    before = Organization.objects.count()
    response = api_as(city_admin).post(
        "/api/v1/directory/organizations/",
        {"name": "某公司", "kind": "enterprise", "division": "331102000000", "uscc": uscc},
        format="json",
    )
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid" and message in body["fields"]["uscc"][0]
    assert Organization.objects.count() == before


def test_duplicate_uscc_is_a_409_in_the_api_and_a_field_error_on_the_web(
    api_as, client, city_admin, lianduqu
):
    services.create_organization(
        actor=city_admin, name="甲公司", kind="enterprise", division=lianduqu, uscc=VALID_USCC
    )
    before = (Organization.objects.count(), Party.objects.count())
    response = api_as(city_admin).post(
        "/api/v1/directory/organizations/",
        {"name": "乙公司", "kind": "enterprise", "division": "331102000000", "uscc": VALID_USCC},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate" and "uscc" in response.json()["fields"]
    client.force_login(city_admin)
    page = client.post(
        "/directory/organizations/new/",
        {
            "name": "乙公司",
            "kind": "enterprise",
            "division": lianduqu.pk,
            "uscc": VALID_USCC,
            "is_active": "on",
        },
    )
    assert page.status_code == 400 and "统一社会信用代码已被其他机构使用" in page.content.decode()
    assert (Organization.objects.count(), Party.objects.count()) == before


def test_duplicate_name_in_one_division_is_refused(city_admin, lianduqu):
    services.create_organization(actor=city_admin, name="同名公司", kind="enterprise", division=lianduqu)
    with pytest.raises(ConflictError, match="同名机构"):
        services.create_organization(actor=city_admin, name="同名公司", kind="enterprise", division=lianduqu)


def test_county_staff_cannot_register_banks_or_cooperatives(county_staff, lianduqu, api_as):
    with pytest.raises(PermissionDeniedError):
        services.create_organization(actor=county_staff, name="某银行", kind="bank", division=lianduqu)
    response = api_as(county_staff).post(
        "/api/v1/directory/organizations/",
        {"name": "某合作社", "kind": "cooperative", "division": "331102000000"},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Organization.objects.filter(name__in=["某银行", "某合作社"]).exists()


def test_list_filters_sorting_and_xlsx_export(client, city_admin):
    client.force_login(city_admin)
    html = client.get("/directory/organizations/?kind=bank").content.decode()
    assert "丽水示范农村商业银行" in html and "两山合作社（演示）</a>" not in html
    response = client.get("/directory/organizations/?kind=bank&export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0][0] == "名称" and len(rows) == 2 and rows[1][0] == "丽水示范农村商业银行（演示）"
    bad = client.get("/directory/organizations/?kind=planet")
    assert "筛选条件有误" in bad.content.decode()


def test_list_queries_do_not_grow_with_rows(client, city_admin, lianduqu, django_assert_max_num_queries):
    client.force_login(city_admin)
    client.get("/directory/organizations/")
    with django_assert_max_num_queries(12) as first:
        client.get("/directory/organizations/")
    for i in range(20):
        services.create_organization(
            actor=city_admin, name=f"批量公司{i}", kind="enterprise", division=lianduqu
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/directory/organizations/")


def test_city_admin_creates_a_user_with_a_role(client, city_admin, county_cooperative):
    client.force_login(city_admin)
    response = client.post(
        "/directory/users/new/",
        {
            "username": "newstaff",
            "display_name": "新员工",
            "password": "Long-enough-pass-9",
            "organization": county_cooperative.pk,
            "role": "coop_staff",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newstaff")
    assert user.check_password("Long-enough-pass-9")
    assert user.groups.filter(name=f"organization:{county_cooperative.pk}").exists()
    assert Membership.objects.get(user=user).role == "coop_staff"


def test_weak_password_and_duplicate_username_are_refused(client, city_admin, county_cooperative):
    client.force_login(city_admin)
    data = {
        "username": "coop_staff",
        "display_name": "重复",
        "password": "Long-enough-pass-9",
        "organization": county_cooperative.pk,
        "role": "coop_staff",
    }
    assert "用户名已存在" in client.post("/directory/users/new/", data).content.decode()
    response = client.post("/directory/users/new/", {**data, "username": "weak", "password": "12345"})
    assert response.status_code == 400 and "密码太短" in response.content.decode()
    assert not User.objects.filter(username="weak").exists()


def test_only_user_managers_reach_user_pages(client, county_staff, api_as):
    client.force_login(county_staff)
    assert client.get("/directory/users/").status_code == 403
    assert api_as(county_staff).get("/api/v1/directory/users/").status_code == 403


def test_end_membership_but_not_ones_own_admin_role(client, city_admin):
    client.force_login(city_admin)
    staff_membership = Membership.objects.get(user__username="coop_staff")
    client.post(f"/directory/memberships/{staff_membership.pk}/end/")
    staff_membership.refresh_from_db()
    assert staff_membership.is_active is False
    own = Membership.objects.get(user=city_admin, role="city_admin")
    response = client.post(f"/directory/memberships/{own.pk}/end/", follow=True)
    assert "不能撤销自己的管理员角色" in response.content.decode()
    own.refresh_from_db()
    assert own.is_active is True
