"""Every bank call is logged with the bank, the user and the personal data it returned; banks are
throttled per organization (two clients of one bank share the bank's rate)."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from directory.models import ApiRequestLog, PersonalDataAccess
from directory.services import grant_person_access
from finance.api.throttling import BankRateThrottle
from finance.tests import test_collateral_api as collateral

URL, assert_error, national_id, token_client = (
    collateral.URL,
    collateral.assert_error,
    collateral.national_id,
    collateral.token_client,
)
bank_api, second_bank_api = collateral.bank_api, collateral.second_bank_api  # fixtures


def test_the_log_row_names_the_persons_and_fields_returned(registered_asset, households, bank, bank_api):
    asset = registered_asset([(households[0], "1/2"), (households[1], "1/2")])
    response = bank_api.get(URL, {"asset": asset.code})
    assert response.status_code == 200
    log = ApiRequestLog.objects.get()
    assert (log.organization, log.user, log.token, log.method, log.status_code) == (
        bank,
        bank_api.token.user,
        bank_api.token,
        "GET",
        200,
    )
    assert log.path == f"{URL}?asset={asset.code}"
    assert sorted(log.personal_data, key=lambda row: row["person"]) == [
        {"person": households[0].person_id, "fields": ["name", "national_id_masked"]},
        {"person": households[1].person_id, "fields": ["name", "national_id_masked"]},
    ]
    assert not PersonalDataAccess.objects.exists()  # token calls are in the API log, not twice


def test_a_lookup_returning_no_person_logs_an_empty_list(registered_asset, collective, bank_api):
    asset = registered_asset([(collective, 1)])
    assert bank_api.get(URL, {"asset": asset.pk}).json()["count"] == 1
    assert bank_api.get(URL, {"asset": "no-such-asset"}).status_code == 404
    logs = list(ApiRequestLog.objects.order_by("pk").values_list("status_code", "personal_data"))
    assert logs == [(200, []), (404, [])]


def test_a_refused_holder_lookup_is_logged_without_personal_data(
    registered_asset, households, bank_api, bank, county_staff
):
    person = households[0].person
    registered_asset([(households[0], 1)])
    number = national_id(person)
    assert_error(bank_api.get(URL, {"holder_id": number}), 404, "not_authorised_by_holder")
    grant_person_access(actor=county_staff, person=person, organization=bank, reason="授权书 SQ-002")
    assert bank_api.get(URL, {"holder_id": number}).status_code == 200
    refused, answered = ApiRequestLog.objects.order_by("pk")
    assert (refused.status_code, refused.personal_data) == (404, [])
    assert (answered.status_code, answered.personal_data) == (
        200,
        [{"person": person.pk, "fields": ["name", "national_id_masked"]}],
    )
    # The ID number a bank sends is never stored in clear: the logged query string is masked.
    for row in (refused, answered):
        assert number not in row.path
        assert row.path == f"{URL}?holder_id={person.national_id_masked}"
    assert_error(bank_api.get(URL, {"holder_id": "33110219650312"}), 400, "invalid")
    assert ApiRequestLog.objects.order_by("pk").last().path == f"{URL}?holder_id=**************"


def test_each_bank_token_is_logged_with_its_own_organization(
    registered_asset, households, bank, second_bank, bank_api, second_bank_api
):
    asset = registered_asset([(households[2], 1)])
    bank_api.get(URL, {"asset": asset.pk})
    second_bank_api.get(URL, {"asset": asset.pk})
    rows = list(ApiRequestLog.objects.order_by("pk").values_list("organization_id", "token_id"))
    assert rows == [(bank.pk, bank_api.token.pk), (second_bank.pk, second_bank_api.token.pk)]


def test_a_bank_officer_in_the_browser_is_logged_as_a_personal_data_read(
    registered_asset, households, bank_officer
):
    asset = registered_asset([(households[0], 1)])
    client = APIClient()
    client.force_authenticate(bank_officer)
    assert client.get(URL, {"asset": asset.pk}).status_code == 200
    access = PersonalDataAccess.objects.get()
    assert (access.viewer, access.person_id, access.channel, access.fields) == (
        bank_officer,
        households[0].person_id,
        "api",
        "masked",
    )
    assert not ApiRequestLog.objects.exists()


@pytest.fixture
def tiny_bank_rate(settings, monkeypatch):
    """One call a minute per bank. DRF's throttles copy the rates at import, so the class attribute
    is patched beside the setting; the throttle history lives in the cache, which is cleared."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "bank": "1/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(BankRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield
    cache.clear()


def test_banks_are_throttled_per_organization(
    registered_asset, collective, bank, bank_officer, bank_api, second_bank_api, tiny_bank_rate
):
    asset = registered_asset([(collective, 1)])
    assert bank_api.get(URL, {"asset": asset.pk}).status_code == 200
    body = assert_error(bank_api.get(URL, {"asset": asset.pk}), 429, "throttled")
    assert body["fields"] == {}
    # A second client of the same bank shares the bank's rate; another bank has its own.
    other_client_of_bank = token_client(bank, bank_officer, name="押品系统")
    assert_error(other_client_of_bank.get(URL, {"asset": asset.pk}), 429, "throttled")
    assert second_bank_api.get(URL, {"asset": asset.pk}).status_code == 200
    statuses = list(ApiRequestLog.objects.order_by("pk").values_list("status_code", flat=True))
    assert statuses == [200, 429, 429, 200]  # throttled calls are logged too


def test_staff_in_the_browser_are_not_bank_throttled(
    registered_asset, collective, county_staff, tiny_bank_rate
):
    asset = registered_asset([(collective, 1)])
    client = APIClient()
    client.force_authenticate(county_staff)
    assert [client.get(URL, {"asset": asset.pk}).status_code for _ in range(3)] == [200, 200, 200]
