"""PIPL: ID and phone numbers validated, encrypted at rest, found by keyed hash, masked, and every
unmasked view logged."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from directory import services
from directory.models import AccessChannel, AdministrativeDivision, Party, Person, PersonalDataAccess, User
from tmcs.errors import ConflictError, DomainError

NUMBER = "331102198001010019"


@pytest.fixture
def village(demo_region):
    return AdministrativeDivision.objects.get(code="331102199201")


@pytest.fixture
def person(village, city_admin):
    return services.create_person(
        actor=city_admin, name="赵一", national_id=NUMBER, phone="+86 138-0013-8000", division=village
    )


def _raw_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608 - fixed table names
        return " ".join(row[0] for row in cursor.fetchall())


def test_numbers_are_encrypted_at_rest_and_in_history(person):
    for table in ("directory_person", "directory_personevent"):
        raw = _raw_rows(table)
        assert "赵一" in raw  # the row is there
        assert NUMBER not in raw and "13800138000" not in raw
    assert person.national_id_masked == "331102********0019"
    assert person.phone_masked == "138****8000"
    assert (person.gender, str(person.birth_date)) == ("M", "1980-01-01")
    assert Party.objects.get(person=person).kind == "person"


def test_lookup_by_full_number_through_the_keyed_hash(person, city_admin):
    assert services.find_person_by_national_id(actor=city_admin, national_id=NUMBER.lower()) == person
    outsider = User.objects.get(username="bank_officer")
    assert services.find_person_by_national_id(actor=outsider, national_id=NUMBER) is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"national_id": "331102198001010018"}, "national_id", "校验位不正确"),
        ({"national_id": "331102198002300018"}, "national_id", "出生日期不存在"),
        ({"national_id": "33110219800101001"}, "national_id", "应为18位"),
        ({"national_id": NUMBER, "phone": "12345"}, "phone", "电话号码格式不正确"),
        ({"national_id": NUMBER, "name": "  "}, "name", "请填写姓名"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(village, city_admin, fields, field, message):
    before = (Person.objects.count(), Party.objects.count())
    data = {"name": "钱二", "division": village, **fields}
    with pytest.raises(DomainError) as excinfo:
        services.create_person(actor=city_admin, **data)
    assert message in excinfo.value.fields[field][0]
    assert (Person.objects.count(), Party.objects.count()) == before


def test_duplicate_id_number_is_a_conflict(person, village, city_admin):
    before = (Person.objects.count(), Party.objects.count())
    with pytest.raises(ConflictError, match="已登记"):
        services.create_person(actor=city_admin, name="冒名", national_id=NUMBER, division=village)
    assert (Person.objects.count(), Party.objects.count()) == before


def test_web_form_shows_chinese_field_errors_and_writes_nothing(client, city_admin, village):
    client.force_login(city_admin)
    before = Person.objects.count()
    response = client.post(
        "/directory/persons/new/",
        {"name": "孙三", "national_id": "331102198001010018", "division": village.pk},
    )
    assert response.status_code == 400
    assert "身份证号码校验位不正确" in response.content.decode()
    assert Person.objects.count() == before


def test_lists_and_details_show_masked_numbers_only(client, person, city_admin):
    client.force_login(city_admin)
    for url in ("/directory/persons/", f"/directory/persons/{person.pk}/"):
        html = client.get(url).content.decode()
        assert "331102********0019" in html and NUMBER not in html and "13800138000" not in html
    body = APIClient()
    body.force_authenticate(city_admin)
    data = body.get(f"/api/v1/directory/persons/{person.pk}/").json()
    assert data["national_id_masked"] == "331102********0019" and "national_id" not in data


def test_unmasked_view_is_logged_in_web_and_api(client, person, city_admin):
    client.force_login(city_admin)
    response = client.post(
        f"/directory/persons/{person.pk}/reveal/", {"purpose": "核对承包合同"}, REMOTE_ADDR="10.0.0.8"
    )
    assert NUMBER in response.content.decode() and "13800138000" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    api = APIClient()
    api.force_authenticate(city_admin)
    assert api.post(f"/api/v1/directory/persons/{person.pk}/reveal/", {"purpose": "贷前核验"}).json() == {
        "national_id": NUMBER,
        "phone": "13800138000",
    }
    log = list(
        PersonalDataAccess.objects.filter(person=person)
        .order_by("at")
        .values("viewer", "channel", "purpose", "ip")
    )
    assert log[0] == {
        "viewer": city_admin.pk,
        "channel": AccessChannel.WEB,
        "purpose": "核对承包合同",
        "ip": "10.0.0.8",
    }
    assert log[1]["channel"] == AccessChannel.API and log[1]["purpose"] == "贷前核验"


def test_reveal_needs_a_purpose(client, person, city_admin):
    api = APIClient()
    api.force_authenticate(city_admin)
    response = api.post(f"/api/v1/directory/persons/{person.pk}/reveal/", {"purpose": ""})
    assert response.status_code == 400 and "purpose" in response.json()["fields"]
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("username", ["auditor", "village_clerk"])
def test_roles_without_need_cannot_unmask(client, person, username):
    user = User.objects.get(username=username)
    client.force_login(user)
    assert client.get(f"/directory/persons/{person.pk}/").status_code == 200  # they may see the masked record
    response = client.post(f"/directory/persons/{person.pk}/reveal/", {"purpose": "想看看"})
    assert response.status_code == 403
    assert NUMBER not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_bank_with_grant_may_unmask_and_is_logged(person, city_admin, bank_officer):
    bank = bank_officer.active_memberships[0].organization
    api = APIClient()
    api.force_authenticate(bank_officer)
    assert api.post(f"/api/v1/directory/persons/{person.pk}/reveal/", {"purpose": "贷前"}).status_code == 404
    services.grant_person_access(
        actor=city_admin, person=person, organization=bank, reason="借款人授权书 LS-2026-01"
    )
    bank_officer = User.objects.get(pk=bank_officer.pk)  # fresh permission cache
    api.force_authenticate(bank_officer)
    assert (
        api.post(f"/api/v1/directory/persons/{person.pk}/reveal/", {"purpose": "贷前"}).json()["national_id"]
        == NUMBER
    )
    assert PersonalDataAccess.objects.get().viewer == bank_officer


def test_duplicate_grant_is_refused(person, city_admin, bank_officer):
    bank = bank_officer.active_memberships[0].organization
    services.grant_person_access(actor=city_admin, person=person, organization=bank, reason="授权书 1")
    with pytest.raises(ConflictError):
        services.grant_person_access(actor=city_admin, person=person, organization=bank, reason="授权书 2")


def test_update_keeps_numbers_when_left_blank(client, person, city_admin, village):
    client.force_login(city_admin)
    response = client.post(
        f"/directory/persons/{person.pk}/edit/",
        {"name": "赵一一", "national_id": "", "phone": "", "division": village.pk},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (
        person.name == "赵一一" and person.national_id_masked == "331102********0019" and person.phone_masked
    )


def test_bank_reads_of_person_records_are_logged_even_masked(client, person, city_admin, bank_officer):
    bank = bank_officer.active_memberships[0].organization
    services.grant_person_access(actor=city_admin, person=person, organization=bank, reason="授权书 LS-7")
    bank_officer = User.objects.get(pk=bank_officer.pk)
    api = APIClient()
    api.force_authenticate(bank_officer)
    assert [row["id"] for row in api.get("/api/v1/directory/persons/").json()["results"]] == [person.pk]
    api.get(f"/api/v1/directory/persons/{person.pk}/")
    client.force_login(bank_officer)
    client.get("/directory/persons/")
    client.get("/directory/persons/?export=xlsx")
    reads = list(
        PersonalDataAccess.objects.filter(viewer=bank_officer).order_by("pk").values_list("channel", "fields")
    )
    assert reads == [("api", "masked"), ("api", "masked"), ("web", "masked"), ("web", "masked")]


def test_cooperative_staff_masked_reads_are_not_logged(client, person, county_staff):
    client.force_login(county_staff)
    client.get(f"/directory/persons/{person.pk}/")
    assert not PersonalDataAccess.objects.exists()
