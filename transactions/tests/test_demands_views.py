"""Demand pages: investors post, follow and close their own; staff see those in reach with matches."""

import pytest

from directory.models import User
from transactions.models import Demand, DemandStatus
from transactions.services import demands

from .test_demands_services import collected_asset, county, ready_package  # noqa: F401  (fixtures)


def login(client, username):
    client.force_login(User.objects.get(username=username))
    return client


def form_data(village, **overrides):
    data = {"intended_use": "森林康养", "division": village.pk, "budget": "200000.00", "term_years": 10}
    data.update(overrides)
    return data


def test_investor_posts_demand_and_sees_match_note(
    client,
    investor,
    village,
    forest_type,
    collected_asset,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    asset = collected_asset()
    login(client, "investor")
    assert client.get("/transactions/demands/new/").status_code == 200
    bad = client.post("/transactions/demands/new/", form_data(village, term_years=40, budget="-5"))
    assert bad.status_code == 400 and "invalid-feedback" in bad.content.decode()
    assert not Demand.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post("/transactions/demands/new/", form_data(village, resource_type=forest_type.pk))
    demand = Demand.objects.get()
    assert ok.status_code == 302 and ok.url == f"/transactions/demands/{demand.pk}/"
    page = client.get(ok.url).content.decode()
    assert (
        asset.code in page and "合作社将与您联系" in page and f'href="{asset.get_absolute_url()}"' not in page
    )
    closed = client.post(f"/transactions/demands/{demand.pk}/close/")
    assert closed.status_code == 302
    demand.refresh_from_db()
    assert demand.status == DemandStatus.CLOSED


def test_staff_list_detail_and_export(
    client,
    investor,
    second_investor,
    village,
    collected_asset,  # noqa: F811
    county_staff,
    django_assert_max_num_queries,
):
    asset = collected_asset()
    for n in range(4):
        demand = demands.post_demand(actor=investor, division=village, intended_use=f"民宿项目{n}")
        demands.match_demand(demand)
    login(client, "coop_staff")
    with django_assert_max_num_queries(12):
        page = client.get("/transactions/demands/").content.decode()
    assert page.count("民宿项目") == 4
    found = client.get("/transactions/demands/", {"q": "民宿项目2"}).content.decode()
    assert ">民宿项目2<" in found and "民宿项目1" not in found
    assert client.get("/transactions/demands/", {"status": "closed"}).content.decode().count("民宿项目") == 0
    export = client.get("/transactions/demands/", {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    with django_assert_max_num_queries(12):
        detail = client.get(f"/transactions/demands/{demand.pk}/").content.decode()
    assert f'href="{asset.get_absolute_url()}"' in detail and "关闭需求" not in detail
    # Staff cannot close an investor's demand.
    response = client.post(f"/transactions/demands/{demand.pk}/close/")
    assert response.status_code == 403
    demand.refresh_from_db()
    assert demand.status == DemandStatus.OPEN
    assert client.get("/transactions/demands/new/").status_code == 403


def test_other_investor_and_clerk_cannot_see(client, investor, village):
    demand = demands.post_demand(actor=investor, division=village, intended_use="茶园民宿意向（测试）")
    login(client, "village_clerk")
    assert client.get(f"/transactions/demands/{demand.pk}/").status_code == 404
    # (not just "茶园": the catalog's 茶园 type is in the filter's choices)
    assert "茶园民宿意向（测试）" not in client.get("/transactions/demands/").content.decode()


@pytest.mark.usefixtures("second_investor")
def test_second_investor_cannot_open_or_close(client, investor, village):
    demand = demands.post_demand(actor=investor, division=village, intended_use="茶园")
    login(client, "investor2")
    assert client.get(f"/transactions/demands/{demand.pk}/").status_code == 404
    assert client.post(f"/transactions/demands/{demand.pk}/close/").status_code == 404
    demand.refresh_from_db()
    assert demand.status == DemandStatus.OPEN
