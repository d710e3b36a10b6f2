# ruff: noqa: F811  (fixtures imported from test_projects_fixtures)
"""The public investment-promotion showcase (/showcase/, no login): admitted projects marked for
it only, filters by category and county, the map points, the published criteria, and no personal
data (no owner contact names or phones, no household or staff names, no asset codes)."""

import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from projects.models import KeyProject
from projects.services import projects as services

from .test_projects_fixtures import (  # noqa: F401  (fixtures)
    admitted,
    other_county,
    other_county_staff,
    owner_member,
    prepare,
    submitted,
)

pytestmark = pytest.mark.django_db
SHOWCASE = "/showcase/"


@pytest.fixture
def shown(admitted, county_staff):
    """shown(**fields) → an admitted project on the showcase."""

    def make(**fields):
        project = admitted(**fields)
        return services.set_showcase(
            actor=county_staff, project=project, showcase=True, contact="0578-2123456"
        )

    return make


def geojson_of(page):
    match = re.search(r'<script id="showcase-geojson" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_showcase_lists_only_showcased_admitted_projects_without_personal_data(
    client,
    shown,
    admitted,
    submitted,
    county_staff,
    valued_asset,
    households,
    investor_org,
    django_assert_max_num_queries,
):
    investor_org.contact_name = "王经理"
    investor_org.contact_phone_masked = "138****0001"
    investor_org.save(update_fields=["contact_name", "contact_phone_masked"])
    asset = valued_asset()
    public = shown(name="示范村森林康养基地", assets=[asset])
    for n in range(3):
        shown(name=f"生态农业示范园{n}", category="eco_agriculture")
    quiet = admitted(name="未公开展示的项目")
    pending = submitted(name="待审核的项目")
    left = shown(name="已退库的项目")
    services.exit_project(
        actor=county_staff, project=left, reason="owner_request", note="业主申请", exited_on=left.admitted_on
    )
    with django_assert_max_num_queries(8):
        response = client.get(SHOWCASE)
    page = response.content.decode()
    assert response.status_code == 200 and "/accounts/login/" not in page
    assert public.name in page and "0578-2123456" in page  # the public contact
    assert quiet.name not in page and pending.name not in page and left.name not in page
    for private in (
        "王经理",
        "138****0001",
        investor_org.name,
        households[0].person.name,
        county_staff.display_name,
        asset.code,
    ):
        assert private not in page, private
    features = geojson_of(page)["features"]
    assert [f["properties"]["name"] for f in features] == [public.name]
    lon, lat = features[0]["geometry"]["coordinates"]
    assert 119 < lon < 121 and 27 < lat < 29
    assert features[0]["properties"]["url"] == f"{SHOWCASE}{public.pk}/"
    by_category = client.get(SHOWCASE, {"category": "eco_agriculture"}).content.decode()
    assert public.name not in by_category and "生态农业示范园0" in by_category
    sheet = load_workbook(io.BytesIO(client.get(SHOWCASE, {"export": "xlsx"}).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 5 and "项目业主" not in rows[0]
    assert all(private not in str(rows) for private in ("王经理", investor_org.name))


def test_showcase_filters_by_county(client, shown, prepare, city_admin, other_county, other_county_staff):
    here = shown(name="莲都区的项目")
    there = prepare(name="青田县的项目", division=other_county, actor=city_admin)
    services.submit_project(actor=city_admin, project=there)
    services.review_project(
        actor=other_county_staff,
        project=there,
        decision="admit",
        note="",
        manual={"C4": {"met": True, "reason": "符合"}},
    )
    services.set_showcase(actor=city_admin, project=there, showcase=True, contact="0578-6123456")
    page = client.get(SHOWCASE, {"county": other_county.pk}).content.decode()
    assert there.name in page and here.name not in page
    assert "青田县" in page
    bad = client.get(SHOWCASE, {"county": "not-a-county"}).content.decode()
    assert here.name not in bad and "筛选条件有误" in bad


def test_showcase_detail_is_public_and_only_for_showcased_projects(
    client, shown, admitted, valued_asset, households, investor_org
):
    asset = valued_asset()
    project = shown(assets=[asset])
    response = client.get(f"{SHOWCASE}{project.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert project.name in page and project.summary in page and "0578-2123456" in page
    assert "改造农房 12 栋" in page  # the description
    for private in (investor_org.name, households[0].person.name, asset.code, asset.name):
        assert private not in page, private
    (feature,) = geojson_of(page)["features"]
    assert feature["properties"] == {"name": project.name}
    hidden = admitted()
    assert client.get(f"{SHOWCASE}{hidden.pk}/").status_code == 404
    assert client.get(f"{SHOWCASE}999999/").status_code == 404
    services.set_showcase(actor=project.created_by, project=project, showcase=False)
    assert client.get(f"{SHOWCASE}{project.pk}/").status_code == 404


def test_public_criteria_page(client, published_criteria):
    page = client.get(f"{SHOWCASE}criteria/").content.decode()
    assert published_criteria.name in page and "总投资不低于 100 万元" in page and "T-1" in page
    published_criteria.status = "retired"
    published_criteria.save(update_fields=["status"])
    assert "尚未发布" in client.get(f"{SHOWCASE}criteria/").content.decode()


def test_project_detail_links_to_the_public_page(client, shown, county_staff):
    project = shown()
    client.force_login(county_staff)
    page = client.get(project.get_absolute_url()).content.decode()
    assert f"{SHOWCASE}{project.pk}/" in page
    assert KeyProject.objects.get(pk=project.pk).showcase
    assert Decimal(project.total_investment) == Decimal("3000000.00")
