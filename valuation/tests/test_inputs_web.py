"""Entering ecological inputs in the browser's forms: one indicator for one asset or division and
year, built from the indicator's InputSpecs, checked as a whole, saved all or nothing."""

import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from directory.models import AdministrativeDivision, OrganizationKind, Role
from directory.services import create_organization
from resources.models import ResourceType
from resources.tests.conftest import square
from tmcs.errors import DomainError, PermissionDeniedError
from valuation import services
from valuation.models import EcologicalInput
from valuation.services.input_import import offered_indicators, record_indicator_inputs

pytestmark = pytest.mark.django_db

WATER_KEYS = ("precipitation", "runoff", "evapotranspiration", "area")
UNITS = {"precipitation": "mm", "runoff": "mm", "evapotranspiration": "mm", "area": "m2"}


def form_data(values, source="丽水市水文年鉴（2025）", **extra):
    """POST data of the water-conservation form: {key: (value, unit)}; missing keys are blank."""
    data = {"source": source}
    for key in WATER_KEYS:
        value, unit = values.get(key, ("", UNITS[key]))
        data.update({f"value_{key}": value, f"unit_{key}": unit, f"source_{key}": ""})
    data.update(extra)
    return data


def water_url(asset, year=2025):
    return f"/valuation/inputs/asset/{asset.code}/?indicator=water_conservation&year={year}"


def stored(asset, year=2025, indicator="water_conservation"):
    return {
        record.input_key: (record.value, record.unit, record.source)
        for record in EcologicalInput.objects.filter(asset=asset, year=year, indicator_key=indicator)
    }


@pytest.fixture
def forest(make_asset):
    return make_asset()


@pytest.fixture
def staff_client(client, county_staff):
    client.force_login(county_staff)
    return client


@pytest.fixture
def outsider(make_member, demo_region):
    """Cooperative staff of another county (青田县)."""
    admin = get_user_model().objects.get(username="admin")
    elsewhere = create_organization(
        actor=admin,
        name="青田县两山合作社",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    return make_member(Role.COOP_STAFF, elsewhere)


# --- the form ---------------------------------------------------------------------------------------


def test_the_form_is_built_from_the_indicator_and_shows_its_method(staff_client, forest):
    response = staff_client.get(water_url(forest))
    assert response.status_code == 200
    html = response.content.decode()
    form = response.context["form"]
    assert [row["spec"].key for row in form.rows()] == list(WATER_KEYS)
    # units limited to those convertible to the spec's unit
    assert [code for code, _label in form.fields["unit_precipitation"].choices] == ["mm", "m"]
    assert {"m2", "mu", "hm2", "km2"} == {code for code, _label in form.fields["unit_area"].choices}
    # the asset's PostGIS area stands in for the area: not required here
    assert form.fields["value_precipitation"].required and not form.fields["value_area"].required
    assert "留空则采用资产空间面积" in html
    # the indicator's doc: formula, units, source
    assert "Q = (P − R − ET) × A" in html and "doi:10.5846/stxb201607011362" in html
    assert "影子工程法" in html and "0 – 12000 毫米" in html


def test_saving_the_form_records_every_value_and_a_second_save_updates_them(staff_client, forest):
    values = {
        "precipitation": ("1650", "mm"),
        "runoff": ("300", "mm"),
        "evapotranspiration": ("800", "mm"),
        "area": ("15", "mu"),
    }
    response = staff_client.post(water_url(forest), form_data(values))
    assert response.status_code == 302 and response["Location"] == water_url(forest)
    assert stored(forest) == {
        "precipitation": (Decimal("1650"), "mm", "丽水市水文年鉴（2025）"),
        "runoff": (Decimal("300"), "mm", "丽水市水文年鉴（2025）"),
        "evapotranspiration": (Decimal("800"), "mm", "丽水市水文年鉴（2025）"),
        "area": (Decimal("15"), "mu", "丽水市水文年鉴（2025）"),
    }
    page = staff_client.get(water_url(forest))
    assert "已保存“水源涵养” 2025 年的 4 项输入。" in page.content.decode()
    assert page.context["form"]["value_area"].value() == "15"  # prefilled, without trailing zeros
    assert page.context["form"]["unit_area"].value() == "mu"

    # Both precipitation and runoff rise, runoff above the old precipitation: the set is checked as
    # a whole, so the order of saving does not matter. The area is cleared (PostGIS area from now).
    values = {
        "precipitation": ("2.2", "m"),
        "runoff": ("1900", "mm"),
        "evapotranspiration": ("800", "mm"),
    }
    data = form_data(values, source="", source_precipitation="省水文站", source_runoff="县水利局")
    data["source_evapotranspiration"] = "县气象局"
    response = staff_client.post(water_url(forest), data)
    assert response.status_code == 302, response.context["form"].errors
    assert stored(forest) == {
        "precipitation": (Decimal("2.2"), "m", "省水文站"),
        "runoff": (Decimal("1900"), "mm", "县水利局"),
        "evapotranspiration": (Decimal("800"), "mm", "县气象局"),
    }
    assert EcologicalInput.objects.count() == 3


BAD_FORMS = [
    pytest.param(
        {"precipitation": ("-5", "mm"), "runoff": ("0", "mm"), "evapotranspiration": ("800", "mm")},
        "value_precipitation",
        "不能小于 0 毫米。",
        id="negative-precipitation",
    ),
    pytest.param(
        {"precipitation": ("900", "mm"), "runoff": ("950", "mm"), "evapotranspiration": ("100", "mm")},
        "value_runoff",
        "地表径流量（R）不能大于降水量（P）。",
        id="runoff-above-precipitation",
    ),
    pytest.param(
        {"precipitation": ("1.6", "m"), "runoff": ("1700", "mm"), "evapotranspiration": ("100", "mm")},
        "value_runoff",
        "地表径流量（R）不能大于降水量（P）。",
        id="runoff-above-precipitation-in-another-unit",
    ),
    pytest.param(
        {"precipitation": ("1650", "furlong"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")},
        "unit_precipitation",
        "选择一个有效的选项",
        id="unknown-unit",
    ),
    pytest.param(
        {"precipitation": ("1650", "mu"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")},
        "unit_precipitation",
        "选择一个有效的选项",
        id="unit-of-another-dimension",
    ),
    pytest.param(
        {"precipitation": ("1650", "mm"), "runoff": ("300", "mm")},
        "value_evapotranspiration",
        "该字段是必填项。",
        id="missing-value",
    ),
    pytest.param(
        {"precipitation": ("1,650", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")},
        "value_precipitation",
        "“1,650”不是有效的数值。",
        id="not-a-number",
    ),
    pytest.param(
        {
            "precipitation": ("1650.00000000001", "mm"),
            "runoff": ("300", "mm"),
            "evapotranspiration": ("8", "mm"),
        },
        "value_precipitation",
        "小数部分最多 10 位",
        id="too-many-decimals",
    ),
]


@pytest.mark.parametrize(("values", "field", "message"), BAD_FORMS)
def test_a_bad_form_shows_the_error_in_place_and_writes_nothing(staff_client, forest, values, field, message):
    response = staff_client.post(water_url(forest), form_data(values))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    html = response.content.decode()
    tag = re.search(rf'<(?:input|select)[^>]*name="{field}"[^>]*>', html).group(0)
    assert "is-invalid" in tag
    cell = html.split(tag, 1)[1].split("</td>", 1)[0]
    assert message in cell  # under the field itself, not only at the top
    assert "未保存任何数值" in html
    assert EcologicalInput.objects.count() == 0


def test_a_bad_form_leaves_the_stored_values_untouched(staff_client, forest, county_staff):
    good = {"precipitation": ("1650", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}
    assert staff_client.post(water_url(forest), form_data(good)).status_code == 302
    before = stored(forest)
    bad = {"precipitation": ("200", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}
    response = staff_client.post(water_url(forest), form_data(bad))
    assert response.status_code == 400
    assert stored(forest) == before
    # the service refuses the same set on its own (the form is not the only guard)
    with pytest.raises(DomainError) as caught:
        record_indicator_inputs(
            actor=county_staff,
            asset=forest,
            year=2025,
            indicator_key="water_conservation",
            values={
                "precipitation": ("200", "mm", "x"),
                "runoff": ("300", "mm", "x"),
                "evapotranspiration": None,
            },
        )
    assert caught.value.fields["runoff"] == ["地表径流量（R）不能大于降水量（P）。"]
    assert stored(forest) == before


def test_the_service_keeps_inputs_it_is_not_given_and_checks_them(county_staff, forest):
    def save(**values):
        return record_indicator_inputs(
            actor=county_staff, asset=forest, year=2025, indicator_key="water_conservation", values=values
        )

    assert (
        save(
            precipitation=("1650", "mm", "年鉴"),
            runoff=("300", "mm", "年鉴"),
            evapotranspiration=("8", "mm", "x"),
        )
        == 3
    )
    assert save(evapotranspiration=("800", "mm", "气象局")) == 1
    assert stored(forest)["precipitation"] == (Decimal("1650"), "mm", "年鉴")
    assert stored(forest)["evapotranspiration"] == (Decimal("800"), "mm", "气象局")
    with pytest.raises(DomainError) as caught:  # the kept runoff is above the new precipitation
        save(precipitation=("200", "mm", "年鉴"))
    assert caught.value.fields == {"runoff": ["地表径流量（R）不能大于降水量（P）。"]}
    with pytest.raises(DomainError) as caught:  # removing a required input leaves the set incomplete
        save(runoff=None)
    assert caught.value.fields == {"runoff": ["必须填写此项。"]}
    with pytest.raises(DomainError) as caught:
        save(snow=("1", "mm", "x"), precipitation=("1e40", "mm", "x"))
    assert caught.value.fields["__all__"] == ["指标“水源涵养”没有输入项“snow”。"]
    assert any("整数部分最多 26 位" in m for m in caught.value.fields["precipitation"])
    assert len(stored(forest)) == 3 and stored(forest)["precipitation"][0] == Decimal("1650")


def test_a_value_without_any_source_is_refused(staff_client, forest):
    values = {"precipitation": ("1650", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}
    response = staff_client.post(water_url(forest), form_data(values, source=""))
    assert response.status_code == 400
    assert response.context["form"].errors["source_precipitation"] == ["请填写数据来源。"]
    assert EcologicalInput.objects.count() == 0


def test_only_the_asset_types_indicators_are_offered(staff_client, forest, make_asset, catalog):
    page = staff_client.get(f"/valuation/inputs/asset/{forest.code}/?year=2025")
    assert page.status_code == 200
    offered = [item["indicator"].key for item in page.context["overview"]]
    assert offered == list(ResourceType.objects.get(code="forest").gep_indicators)
    assert "landscape_recreation" not in offered
    # a tea garden lists 休闲旅游 (region only): not offered on the asset, refused by the service
    tea = make_asset(
        resource_type=ResourceType.objects.get(code="tea_garden"), geometry=square(dx=0.01), attributes={}
    )
    keys = [i.key for i in offered_indicators(asset=tea)]
    assert keys == ["agricultural_products", "soil_retention"]
    page = staff_client.get(f"/valuation/inputs/asset/{tea.code}/?indicator=landscape_recreation&year=2025")
    assert "form" not in page.context and page.context["chooser"].errors["indicator"]
    with pytest.raises(DomainError, match="输入数据有误") as caught:
        record_indicator_inputs(
            actor=page.wsgi_request.user,
            asset=tea,
            year=2025,
            indicator_key="landscape_recreation",
            values={"visits": ("1000", "person_visits", "统计")},
        )
    assert "只在区域层面核算" in caught.value.fields["__all__"][0]


def test_a_division_form_enters_region_only_indicators(staff_client):
    url = "/valuation/inputs/division/331102000000/?indicator=landscape_recreation&year=2025"
    page = staff_client.get(url)
    assert page.status_code == 200
    assert [code for code, _l in page.context["form"].fields["unit_visits"].choices] == [
        "person_visits",
        "10k_person_visits",
    ]
    data = {
        "source": "莲都区文化和旅游统计公报",
        "value_visits": "120",
        "unit_visits": "10k_person_visits",
        "value_travel_cost_per_visit": "850",
        "unit_travel_cost_per_visit": "yuan_per_visit",
        "value_tourism_revenue": "",
        "unit_tourism_revenue": "yuan",
    }
    assert staff_client.post(url, data).status_code == 302
    county = AdministrativeDivision.objects.get(code="331102000000")
    saved = {r.input_key: (r.value, r.unit) for r in EcologicalInput.objects.filter(division=county)}
    assert saved == {
        "visits": (Decimal("120"), "10k_person_visits"),
        "travel_cost_per_visit": (Decimal("850"), "yuan_per_visit"),
    }
    # neither travel cost nor revenue: the "one of" rule of the indicator, above the form
    data.update({"value_travel_cost_per_visit": ""})
    response = staff_client.post(url, data)
    assert response.status_code == 400
    assert "至少填写一项：人均旅行费用、旅游收入。" in response.context["form"].non_field_errors()


def test_the_start_page_leads_to_the_entry_page(staff_client, forest):
    response = staff_client.get(
        "/valuation/inputs/new/", {"kind": "asset", "code": forest.code, "year": "2024"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/valuation/inputs/asset/{forest.code}/?year=2024"
    response = staff_client.get("/valuation/inputs/new/", {"kind": "asset", "code": "ZY000", "year": "2024"})
    assert response.context["form"].errors["code"] == ["资产编号“ZY000”不存在或您无权查看。"]
    response = staff_client.get(
        "/valuation/inputs/new/", {"kind": "division", "code": "331102199201", "year": "2024"}
    )
    assert response["Location"] == "/valuation/inputs/division/331102199201/?year=2024"
    response = staff_client.get(
        "/valuation/inputs/new/", {"kind": "division", "code": "331102199201", "year": "1980"}
    )
    assert response.status_code == 200 and response.context["form"].errors["year"]


# --- permissions ------------------------------------------------------------------------------------


def test_a_bank_may_neither_see_nor_enter_inputs(client, bank_officer, forest, county_staff):
    services.record_input(
        actor=county_staff,
        asset=forest,
        year=2025,
        indicator_key="water_conservation",
        input_key="precipitation",
        value="1650",
        unit="mm",
        source="水文年鉴",
    )
    client.force_login(bank_officer)
    assert client.get(water_url(forest)).status_code == 404  # not an asset it holds a pledge on
    assert client.post(water_url(forest), form_data({"precipitation": ("1", "mm")})).status_code == 404
    assert client.get("/valuation/inputs/division/331102000000/?year=2025").status_code == 403
    assert client.get("/valuation/inputs/new/").status_code == 403
    page = client.get("/valuation/inputs/")
    assert page.status_code == 200 and page.context["page"].paginator.count == 0
    assert "/valuation/inputs/new/" not in page.content.decode()
    assert EcologicalInput.objects.get().value == Decimal("1650")


def test_staff_of_another_county_cannot_reach_these_assets_or_divisions(
    client, outsider, forest, county_staff
):
    client.force_login(outsider)
    assert client.get(water_url(forest)).status_code == 404
    assert client.get("/valuation/inputs/division/331102000000/?year=2025").status_code == 404
    own = client.get("/valuation/inputs/division/331121000000/?indicator=landscape_recreation&year=2025")
    assert own.status_code == 200
    with pytest.raises(PermissionDeniedError):
        record_indicator_inputs(
            actor=outsider,
            asset=forest,
            year=2025,
            indicator_key="water_conservation",
            values={"precipitation": ("1650", "mm", "x")},
        )
    assert EcologicalInput.objects.count() == 0


def test_an_auditor_reads_the_list_but_cannot_enter(client, forest, staff_client):
    values = {"precipitation": ("1650", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}
    assert staff_client.post(water_url(forest), form_data(values)).status_code == 302
    client.force_login(get_user_model().objects.get(username="auditor"))
    page = client.get("/valuation/inputs/")
    assert page.context["page"].paginator.count == 3
    assert "/valuation/inputs/new/" not in page.content.decode()
    assert client.get(water_url(forest)).status_code == 403


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_filters_links_and_exports(
    staff_client, forest, make_asset, county_staff, django_assert_max_num_queries
):
    second = make_asset(geometry=square(dx=0.003), name="林地二")
    for asset, year in ((forest, 2024), (forest, 2025), (second, 2025)):
        values = {
            "precipitation": ("1650", "mm"),
            "runoff": ("300", "mm"),
            "evapotranspiration": ("800", "mm"),
        }
        assert staff_client.post(water_url(asset, year), form_data(values)).status_code == 302
    record_indicator_inputs(
        actor=county_staff,
        division=AdministrativeDivision.objects.get(code="331102199201"),
        year=2025,
        indicator_key="landscape_recreation",
        values={
            "visits": ("5000", "person_visits", "村统计"),
            "tourism_revenue": ("20", "10k_yuan", "村统计"),
        },
    )

    def count(**query):
        return staff_client.get("/valuation/inputs/", query).context["page"].paginator.count

    with django_assert_max_num_queries(12):  # session, user, memberships, count, one page: no N+1
        assert count() == 11
    assert count(year=2025) == 8
    assert count(indicator_key="landscape_recreation") == 2
    assert count(asset=second.code.lower()) == 3
    assert count(division="331102199201") == 11  # the village: its assets and its own inputs
    assert count(division="331121000000") == 0
    page = staff_client.get("/valuation/inputs/", {"asset": second.code, "sort": "-year"})
    html = page.content.decode()
    assert f'href="/valuation/inputs/asset/{second.code}/?indicator=water_conservation&amp;year=2025"' in html
    assert "降水量 P" in html and "毫米" in html and "R1 水源涵养" in html
    export = staff_client.get(
        "/valuation/inputs/", {"year": 2025, "indicator_key": "landscape_recreation", "export": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("年份", "对象", "指标", "输入项", "数值", "单位")
    assert {row[3] for row in rows[1:]} == {"游客人次", "旅游收入"}
    assert {row[1] for row in rows[1:]} == {"331102199201 示范村（演示）"}  # plain text, no HTML
