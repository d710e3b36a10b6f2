"""The key project list in headless Chromium: two projects on the demo forest and a demo field go
from the investor's application through a second person's admission (with a GEP debit) onto the
public investment-promotion showcase, seen without login at desktop and phone width (no personal
data on it), and the staff's project page with its GEP check, criteria and ledger entry."""

import datetime
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.test_browser import SCREENSHOTS, _click_and_load, _login, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
PHONE = (390, 844)
DESKTOP = (1440, 900)


@pytest.fixture
def showcase_projects(demo_region, settings, tmp_path):
    """The demo forest (valued by the demo runs) and a registered field; a 1:1 GEP rule for 莲都区
    with a restoration credit; published criteria; two admitted projects on the showcase."""
    from directory.models import AdministrativeDivision, Organization, OrganizationKind, User
    from projects.models import GepBalance, GepBalanceEntry, GepBalanceRule, GepEntryKind
    from projects.services import projects as services
    from resources import services as registry
    from resources.demo import load_demo_assets
    from resources.models import Asset, AssetStatus, ResourceType
    from valuation.demo import load_demo_valuation

    settings.MEDIA_ROOT = tmp_path
    load_demo_assets()
    load_demo_valuation()
    staff = User.objects.get(username="coop_staff")
    admin = User.objects.get(username="city_admin")
    investor = User.objects.get(username="investor")
    county = AdministrativeDivision.objects.get(code="331102000000")
    village = AdministrativeDivision.objects.get(code="331102199201")
    owner = Organization.objects.get(kind=OrganizationKind.ENTERPRISE, name__contains="生态旅游")
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    field = registry.create_asset(
        actor=staff,
        resource_type=ResourceType.objects.get(code="farmland"),
        division=village,
        name="示范村西坑梯田（演示）",
        geometry="SRID=4490;POLYGON((119.900 28.440, 119.904 28.440, 119.904 28.443, 119.900 28.443, 119.900 28.440))",
        attributes={"land_class": "0101 水田", "soil_grade": 3, "irrigated": True},
    )
    Asset.objects.filter(pk=field.pk).update(status=AssetStatus.REGISTERED)

    rule = GepBalanceRule.objects.create(
        division=county,
        offset_ratio=Decimal("1.2"),
        categories=["material", "regulating", "cultural"],
        effective_from=datetime.date(2024, 1, 1),
        source="莲都区生态产品价值占补平衡实施细则（演示）",
        created_by=admin,
    )
    GepBalance.objects.create(division=county, balance=Decimal("5000000.00"))
    GepBalanceEntry.objects.create(
        number="ZB2026900001",
        division=county,
        kind=GepEntryKind.RESTORATION,
        amount=Decimal("5000000.00"),
        rule=rule,
        calculation={"demo": True},
        memo="废弃矿山生态修复增量（演示）",
        occurred_on=datetime.date(2026, 6, 30),
        balance_after=Decimal("5000000.00"),
        recorded_by=staff,
    )
    criteria = services.create_criteria_set(
        actor=admin,
        name="丽水市两山合作社重点项目评定标准（演示）",
        version="2026-1",
        source="丽水市两山合作社重点项目管理办法（演示）",
        criteria=[
            {
                "code": "A1",
                "title": "计划总投资不低于 500 万元",
                "method": "min_investment",
                "threshold": "5000000",
            },
            {
                "code": "A2",
                "title": "社会资本占比不低于 30%",
                "method": "min_social_capital_share",
                "threshold": "0.3",
            },
            {"code": "A3", "title": "入库后 GEP 占补平衡", "method": "gep_balance"},
            {"code": "A4", "title": "关联资源已确权登记", "method": "assets_registered"},
            {
                "code": "A5",
                "title": "业主近 24 个月无生态违规",
                "method": "owner_no_violations",
                "threshold": "24",
            },
            {"code": "A6", "title": "符合国土空间规划和生态保护红线", "method": "manual"},
        ],
    )
    services.publish_criteria_set(actor=admin, criteria_set=criteria)
    plans = [
        (
            "示范村森林康养基地",
            "eco_tourism",
            "利用后山杉木林和闲置农房，建设森林步道、康养民宿和自然教育营地，带动村民就业。",
            Decimal("12000000.00"),
            Decimal("9000000.00"),
            Decimal("180000.00"),
            [forest],
            [(forest, Decimal("0.05"), "步道和营地占用少量林地")],
        ),
        (
            "西坑梯田生态农业示范园",
            "eco_agriculture",
            "恢复梯田稻鱼共生，发展有机稻米和农旅体验，建设初加工和冷链设施。",
            Decimal("6500000.00"),
            Decimal("4000000.00"),
            Decimal("95000.00"),
            [field],
            [],
        ),
    ]
    projects = []
    for name, category, summary, total, social, gain, assets, consumptions in plans:
        project = services.create_project(
            actor=investor,
            owner=owner,
            division=village,
            name=name,
            category=category,
            summary=summary,
            description="一期：基础设施和生态修复；二期：经营设施和品牌运营。",
            total_investment=total,
            social_capital=social,
            expected_gep_gain=gain,
            planned_start=datetime.date(2026, 3, 1),
            planned_end=datetime.date(2028, 12, 31),
            assets=assets,
            consumptions=consumptions,
        )
        services.submit_project(actor=investor, project=project)
        services.review_project(
            actor=staff,
            project=project,
            decision="admit",
            note="符合入库标准",
            manual={"A6": {"met": True, "reason": "经自然资源部门核实符合规划"}},
        )
        projects.append(
            services.set_showcase(
                actor=staff, project=project, showcase=True, contact="0578-2123456 / invest@example.cn"
            )
        )
    return projects


def _screens(browser, url, name):  # noqa: F811  (the driver, passed on)
    """Load `url` at desktop and phone width and save both screenshots; the page source at each."""
    sources = []
    for label, (width, height) in (("", DESKTOP), ("-phone", PHONE)):
        browser.set_window_size(width, height)
        browser.get(url)
        WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".showcase")))
        WebDriverWait(browser, 10).until(
            lambda d: d.execute_script("return document.querySelectorAll('.leaflet-interactive').length") > 0
        )
        # the whole page, not just the first screen: a phone scrolls
        full = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(width, max(height, full + 120))
        browser.save_screenshot(str(SCREENSHOTS / f"{name}{label}.png"))
        sources.append(browser.page_source)
    browser.set_window_size(*DESKTOP)
    return sources


def test_showcase_at_desktop_and_phone_width(browser, live_server, showcase_projects):  # noqa: F811
    from finance.models import EcoBehaviourRecord  # noqa: F401  (the owner has none: admitted)
    from projects.models import GepBalanceEntry

    forest_project, field_project = showcase_projects
    assert GepBalanceEntry.objects.filter(project=forest_project).exists()

    for source in _screens(browser, f"{live_server.url}/showcase/", "showcase-list"):
        assert forest_project.name in source and field_project.name in source
        for private in (
            "张山林",
            "李秀竹",
            "王青溪",
            "投资企业经办人",
            "莲都区合作社专员",
            "丽水示范生态旅游开发有限公司",
        ):
            assert private not in source, private
    assert "/accounts/login/" not in browser.current_url
    markers = browser.execute_script("return document.querySelectorAll('.leaflet-interactive').length")
    assert markers == 2

    for source in _screens(browser, f"{live_server.url}/showcase/{forest_project.pk}/", "showcase-detail"):
        assert forest_project.summary in source and "0578-2123456" in source
        assert "示范村后山杉木林" not in source and "张山林" not in source

    # The filter by category narrows the cards.
    browser.get(f"{live_server.url}/showcase/?category=eco_agriculture")
    cards = browser.find_elements(By.CSS_SELECTOR, ".showcase-card")
    assert len(cards) == 1 and field_project.name in cards[0].text

    # Staff see the project page with the criteria, the review and the ledger entry.
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}{forest_project.get_absolute_url()}")
    page = browser.page_source
    assert "同意入库" in page and "A6" in page and "项目占用" in page
    browser.set_window_size(DESKTOP[0], browser.execute_script("return document.body.scrollHeight") + 120)
    browser.save_screenshot(str(SCREENSHOTS / "project-detail-staff.png"))
    browser.set_window_size(*DESKTOP)
    _click_and_load(browser, (By.LINK_TEXT, "重点项目清单"))
    assert forest_project.number in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "project-list-staff.png"))
