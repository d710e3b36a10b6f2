# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""`/api/v1/projects/red-lines/` and `/equity-stakes/`: reach (404 outside, 403 without the
capability), filters, thresholds, recompute, stakes with Idempotency-Key, pinned query counts."""

import pytest
from rest_framework.test import APIClient

from directory.services import ensure_party
from projects.models import EquityStake, RedLine, RedLineReading
from projects.services import red_lines
from transactions.models import Movement, MovementKind

from .fixtures_red_lines import (  # noqa: F401  (fixtures)
    PAST,
    auditor,
    borrow,
    capital,
    coop_scheme,
    firm,
    invest,
    lend,
    lender,
    red_line_defaults,
    village_clerk,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("red_line_defaults")]
READINGS = "/api/v1/projects/red-lines/"
STAKES = "/api/v1/projects/equity-stakes/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def computed(capital, borrow, invest, lend, investor_org, county_cooperative, city_cooperative, city_admin):
    capital("1000000")
    borrow("4000000")
    invest("200000")
    lend("100000", ensure_party(investor_org), share="0.3")
    capital("500000", cooperative=city_cooperative, actor=city_admin)
    return red_lines.compute_red_lines(county_cooperative) + red_lines.compute_red_lines(city_cooperative)


def test_readings_scoped_filtered_and_pinned(
    computed, county_staff, auditor, county_cooperative, city_cooperative, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        body = api(county_staff).get(READINGS).json()
    assert body["count"] == 5 and {r["cooperative"] for r in body["results"]} == {county_cooperative.pk}
    breach = api(county_staff).get(READINGS, {"status": "breach"}).json()["results"]
    assert {r["key"] for r in breach} == {"debt_ratio", "investee_lending"}
    investee = next(r for r in breach if r["key"] == "investee_lending")
    assert investee["value"] == "30000.000000" and investee["details"]["loans"][0]["exposure"] == "30000.00"
    assert api(auditor).get(READINGS).json()["count"] == 10
    only_city = api(auditor).get(READINGS, {"cooperative": city_cooperative.pk, "key": "debt_ratio"}).json()
    assert only_city["count"] == 1 and only_city["results"][0]["status"] == "ok"
    assert api(auditor).get(READINGS, {"as_of": "2026-01-01"}).json()["count"] == 0
    assert api(auditor).get(READINGS, {"status": "nonsense"}).status_code == 400
    city_reading = RedLineReading.objects.filter(cooperative=city_cooperative).first()
    assert api(county_staff).get(f"{READINGS}{city_reading.pk}/").status_code == 404
    assert (
        api(auditor).get(f"{READINGS}{city_reading.pk}/").json()["cooperative_name"] == city_cooperative.name
    )


def test_outsiders_get_403(computed, investor, bank_officer, village_clerk):
    for user in (investor, bank_officer, village_clerk):
        for url in (READINGS, f"{READINGS}thresholds/", STAKES):
            response = api(user).get(url)
            assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert APIClient().get(READINGS).status_code in (401, 403)


def test_thresholds_read_and_set(county_staff, city_admin, county_cooperative, city_cooperative):
    url = f"{READINGS}thresholds/"
    rows = api(county_staff).get(url).json()
    assert {r["key"] for r in rows} == set(red_lines.KEYS) and all(r["cooperative"] is None for r in rows)
    payload = {
        "cooperative": county_cooperative.pk,
        "key": "debt_ratio",
        "direction": "max",
        "limit": "0.70",
        "warning": "0.60",
        "source": "本社制度",
    }
    assert api(county_staff).post(url, payload).status_code == 403
    bad = api(city_admin).post(url, {**payload, "warning": "0.80"})
    assert bad.status_code == 400 and "warning" in bad.json()["fields"]
    flipped = api(city_admin).post(url, {**payload, "direction": "min"})
    assert flipped.status_code == 400 and "direction" in flipped.json()["fields"]
    saved = api(city_admin).post(url, payload)
    assert saved.status_code == 200 and saved.json()["limit"] == "0.700000"
    in_force = api(county_staff).get(url, {"cooperative": county_cooperative.pk}).json()
    assert [r["key"] for r in in_force] == red_lines.KEYS
    assert in_force[0]["cooperative"] == county_cooperative.pk and in_force[1]["cooperative"] is None
    assert len(api(county_staff).get(url).json()) == 6  # defaults + the county's own line
    assert api(county_staff).get(url, {"cooperative": city_cooperative.pk}).status_code == 404
    assert RedLine.objects.filter(cooperative__isnull=False).count() == 1


def test_recompute(capital, county_staff, auditor, county_cooperative, city_cooperative):
    capital("1000000")
    url = f"{READINGS}recompute/"
    response = api(county_staff).post(url, {"cooperative": county_cooperative.pk})
    assert response.status_code == 200 and len(response.json()) == 5
    assert {r["key"] for r in response.json()} == set(red_lines.KEYS)
    assert api(county_staff).post(url, {"cooperative": county_cooperative.pk}).status_code == 200
    assert RedLineReading.objects.count() == 5
    assert api(county_staff).post(url, {"cooperative": city_cooperative.pk}).status_code == 404
    assert api(auditor).post(url, {"cooperative": county_cooperative.pk}).status_code == 403
    assert api(county_staff).post(url, {"cooperative": "x"}).status_code == 400


def test_stakes_create_idempotently_dispose_and_scope(
    county_staff,
    city_admin,
    auditor,
    county_cooperative,
    city_cooperative,
    investor_org,
    firm,
    django_assert_max_num_queries,
):
    payload = {
        "cooperative": county_cooperative.pk,
        "investee": investor_org.pk,
        "amount": "200000.00",
        "share": "0.3",
        "acquired_on": "2026-02-01",
        "source_document": "纪要",
        "reference": "TZ-1",
    }
    client = api(county_staff)
    first = client.post(STAKES, payload, HTTP_IDEMPOTENCY_KEY="stake-1")
    assert first.status_code == 201 and first.json()["is_open"] is True
    again = client.post(STAKES, payload, HTTP_IDEMPOTENCY_KEY="stake-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    duplicate = client.post(STAKES, payload)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_stake"
    bad = client.post(STAKES, {**payload, "investee": firm.pk, "share": "1.5"})
    assert bad.status_code == 400 and "share" in bad.json()["fields"]
    future = client.post(STAKES, {**payload, "investee": firm.pk, "acquired_on": "2099-01-01"})
    assert future.status_code == 400 and "acquired_on" in future.json()["fields"]
    assert client.post(STAKES, {**payload, "cooperative": city_cooperative.pk}).status_code == 403
    assert api(auditor).post(STAKES, {**payload, "investee": firm.pk}).status_code == 403
    assert EquityStake.objects.count() == 1 and Movement.objects.count() == 1
    api(city_admin).post(STAKES, {**payload, "cooperative": city_cooperative.pk}, format="json")
    with django_assert_max_num_queries(6):
        listed = client.get(STAKES).json()
    assert listed["count"] == 1 and listed["results"][0]["investee_name"] == investor_org.name
    assert api(auditor).get(STAKES, {"cooperative": city_cooperative.pk}).json()["count"] == 1
    city_stake = EquityStake.objects.get(cooperative=city_cooperative)
    assert client.get(f"{STAKES}{city_stake.pk}/").status_code == 404
    assert client.post(f"{STAKES}{city_stake.pk}/dispose/", {}).status_code == 404
    url = f"{STAKES}{first.json()['id']}/dispose/"
    done = client.post(url, {"proceeds": "180000.00", "disposed_on": "2026-05-01", "reference": "TC"})
    assert (
        done.status_code == 200
        and done.json()["disposed_on"] == "2026-05-01"
        and done.json()["is_open"] is False
    )
    again = client.post(url, {"proceeds": "1.00", "disposed_on": "2026-05-01", "reference": "TC"})
    assert again.status_code == 409 and again.json()["code"] == "already_disposed"
    assert Movement.objects.filter(kind=MovementKind.EQUITY_DISPOSAL).count() == 1
    assert client.get(STAKES, {"open": "false"}).json()["count"] == 1
