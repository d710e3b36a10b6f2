"""GEP pages: start and follow a run, read it, its PDF and XLSX, compare, parameter sets."""

import io
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from directory.models import AdministrativeDivision
from valuation import services
from valuation.models import AccountingRun, ParameterSet, RunStatus
from valuation.templatetags.gep import gep_amount, share_of, yuan

from .test_runs import WATER, enter

pytestmark = pytest.mark.django_db


@pytest.fixture
def parameter_set(city_admin):
    return services.load_default_parameter_set(actor=city_admin)


@pytest.fixture
def valued(county_staff, make_asset, parameter_set, celery_eager, django_capture_on_commit_callbacks):
    """A finished run of the demo county with water conservation on two parcels."""
    from resources.tests.conftest import square

    for i in range(2):
        enter(county_staff, make_asset(geometry=square(dx=0.002 * i), status="under_review"), WATER)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_run(
            actor=county_staff,
            division=AdministrativeDivision.objects.get(code="331102000000"),
            year=2025,
            parameter_set=parameter_set,
        )
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    return run


def test_amounts_are_shown_half_up_in_the_expected_unit():
    assert gep_amount(Decimal("467289000000")) == "4,672.89 亿元"
    assert gep_amount(Decimal("84400.5")) == "8.44 万元"
    assert gep_amount(Decimal("9999.995")) == "10,000.00 元"
    assert yuan(Decimal("0.005")) == "0.01"
    assert share_of(Decimal("3659.4"), Decimal("5024.47")) == "72.8%"
    assert gep_amount(None) == "—" and share_of(1, 0) == "—"


def test_start_a_run_through_the_form(
    client, county_staff, make_asset, parameter_set, celery_eager, django_capture_on_commit_callbacks
):
    enter(county_staff, make_asset(status="under_review"), WATER)
    client.force_login(county_staff)
    county = AdministrativeDivision.objects.get(code="331102000000")
    data = {"division": county.pk, "year": 2025, "parameter_set": parameter_set.pk, "price_basis": "current"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/valuation/runs/new/", data)
    run = AccountingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    page = client.get(run.get_absolute_url()).content.decode()
    assert "已完成" in page and "gep-chart-data" in page and "水源涵养" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"year": 1800}, "确保该值大于或等于1990"),
        ({"price_basis": "comparable", "base_year": 2020}, "基准年价格"),
        ({"parameter_set": 99999}, "选择一个有效的选项"),
    ],
)
def test_run_form_refuses_bad_input(client, county_staff, parameter_set, changes, message):
    client.force_login(county_staff)
    county = AdministrativeDivision.objects.get(code="331102000000")
    data = {
        "division": county.pk,
        "year": 2025,
        "parameter_set": parameter_set.pk,
        "price_basis": "current",
        **changes,
    }
    response = client.post("/valuation/runs/new/", data)
    assert message in response.content.decode()
    assert not AccountingRun.objects.exists()


def test_a_queued_run_shows_a_polled_progress_bar(client, county_staff, make_asset, parameter_set):
    enter(county_staff, make_asset(status="under_review"), WATER)
    run = services.start_run(
        actor=county_staff,
        division=AdministrativeDivision.objects.get(code="331102000000"),
        year=2025,
        parameter_set=parameter_set,
    )  # no worker here and no on_commit in this test: it stays queued
    client.force_login(county_staff)
    fragment = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "0 / 1" in fragment
    services.process_chunk(run.pk, 0)
    services.maybe_finalize(run.pk)
    finished = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"


def test_second_person_accepts_and_the_starter_cannot(
    client, county_staff, make_member, county_cooperative, valued
):
    client.force_login(county_staff)
    assert "复核采纳" not in client.get(valued.get_absolute_url()).content.decode()
    response = client.post(f"/valuation/runs/{valued.pk}/accept/")
    assert response.status_code == 403
    reviewer = make_member("coop_staff", county_cooperative)
    client.force_login(reviewer)
    client.post(f"/valuation/runs/{valued.pk}/accept/")
    valued.refresh_from_db()
    assert valued.accepted_by == reviewer


def test_pdf_report_in_chinese_with_the_total(client, county_staff, valued, tmp_path):
    client.force_login(county_staff)
    response = client.get(f"/valuation/runs/{valued.pk}/report.pdf")
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "生态产品总值（GEP）核算报告" in text
    assert gep_amount(valued.total_value) in text
    assert valued.inputs_checksum in text.replace("\n", "")
    assert "甘孜" in text  # the parameter sources are printed


def test_xlsx_export_has_results_rollups_and_frozen_inputs(client, county_staff, valued):
    client.force_login(county_staff)
    book = load_workbook(io.BytesIO(client.get(f"/valuation/runs/{valued.pk}/export.xlsx").content))
    assert book.sheetnames == ["资产结果", "区域汇总", "核算输入"]
    results = list(book["资产结果"].iter_rows(min_row=2, values_only=True))
    assert len(results) == 2 and sum(Decimal(str(r[6])) for r in results) == valued.total_value
    inputs = list(book["核算输入"].iter_rows(min_row=2, values_only=True))
    assert {r[3] for r in inputs} == {"precipitation", "runoff", "evapotranspiration", "area"}


def test_compare_two_runs(
    client, county_staff, valued, parameter_set, celery_eager, django_capture_on_commit_callbacks
):
    asset = valued.asset_results.first().asset
    enter(county_staff, asset, {"precipitation": ("1750", "mm")})
    with django_capture_on_commit_callbacks(execute=True):
        later = services.start_run(
            actor=county_staff, division=valued.division, year=2025, parameter_set=parameter_set
        )
    later.refresh_from_db()
    client.force_login(county_staff)
    page = client.get(f"/valuation/runs/{later.pk}/compare/{valued.pk}/").content.decode()
    delta = later.total_value - valued.total_value
    assert delta > 0 and gep_amount(delta) in page


def test_banks_and_other_counties_see_no_runs(client, bank_officer, valued):
    client.force_login(bank_officer)
    assert client.get(valued.get_absolute_url()).status_code == 404
    assert client.get("/valuation/runs/new/").status_code == 403
    assert f"/valuation/runs/{valued.pk}/" not in client.get("/valuation/runs/").content.decode()


def test_parameter_sets_copy_edit_publish(client, city_admin, county_staff, parameter_set):
    client.force_login(county_staff)
    assert client.post(f"/valuation/parameter-sets/{parameter_set.pk}/copy/").status_code == 403
    client.force_login(city_admin)
    response = client.post(f"/valuation/parameter-sets/{parameter_set.pk}/copy/", {"price_year": "2025"})
    copy = ParameterSet.objects.get(version=2)
    assert response["Location"] == copy.get_absolute_url() and copy.price_year == 2025
    price = copy.values.get(indicator_key="water_conservation", param_key="reservoir_cost")
    bad = client.post(
        f"/valuation/parameter-values/{price.pk}/", {"value": "-3", "source": "", "authority": "standard"}
    )
    assert bad.status_code == 400 and "该字段是必填项" in bad.content.decode()
    client.post(
        f"/valuation/parameter-values/{price.pk}/",
        {
            "value": "8.1",
            "year": "2025",
            "source": "DB33/T 2274-2025",
            "clause": "附录B",
            "authority": "standard",
        },
    )
    price.refresh_from_db()
    assert price.value == Decimal("8.1") and price.authority == "standard"
    client.post(f"/valuation/parameter-sets/{copy.pk}/publish/")
    copy.refresh_from_db()
    assert copy.status == "published"
    page = client.get(copy.get_absolute_url()).content.decode()
    assert "DB33/T 2274-2025" in page and "/valuation/parameter-values/" not in page  # published: read-only


def test_indicator_page_documents_every_indicator(client, county_staff):
    from valuation.indicators import REGISTRY

    client.force_login(county_staff)
    page = client.get("/valuation/indicators/").content.decode()
    for indicator in REGISTRY.values():
        assert f">{indicator.code}<" in page
    assert "影子工程法" in page


def test_price_indices_are_entered_by_city_admins_and_frozen_per_run(
    client,
    city_admin,
    county_staff,
    make_asset,
    parameter_set,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    from valuation.models import PriceIndex

    client.force_login(county_staff)
    assert (
        client.post(
            "/valuation/price-indices/", {"series": "cpi", "year": 2020, "value": "100", "source": "x"}
        ).status_code
        == 403
    )
    client.force_login(city_admin)
    bad = client.post(
        "/valuation/price-indices/", {"series": "农产品", "year": 2020, "value": "-1", "source": "年鉴"}
    )
    assert bad.status_code == 400 and "指数编码须为字母" in bad.content.decode()
    assert "指数值须为正数" in bad.content.decode()
    assert not PriceIndex.objects.exists()
    for year, value in ((2010, "100"), (2025, "160")):
        client.post(
            "/valuation/price-indices/",
            {"series": "agri_producer", "year": year, "value": value, "source": "统计年鉴"},
        )
    assert "160.0000" in client.get("/valuation/price-indices/").content.decode()
    with django_capture_on_commit_callbacks(
        execute=False
    ):  # start, then correct the index before the chunks run
        run = services.start_run(
            actor=county_staff,
            division=AdministrativeDivision.objects.get(code="331102000000"),
            year=2025,
            parameter_set=parameter_set,
            price_basis="comparable",
            base_year=2010,
        )
    assert run.price_ratios == {"agri_producer": str(Decimal("100") / Decimal("160"))}
    services.record_price_index(
        actor=city_admin, series="agri_producer", year=2025, value="200", source="更正"
    )
    from valuation.services.runs import _ratios

    run.refresh_from_db()
    assert _ratios(run)["agri_producer"] == Decimal("0.625")
