"""Demo projects desk, through the services only: a GEP balance rule for 莲都区 with a restoration
credit from the demo forest's two accepted runs, published admission criteria, one admitted key
project that consumes a little of the forest's GEP (shown on the public showcase) and one waiting
for review, the county cooperative's capital, a borrowing and an equity stake, red lines, a
performance scheme with this year's county evaluation, and one run of every monitoring job.

Every number is invented for demonstration (labelled 演示) except what the platform computes."""

import datetime
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, User
from resources.models import Asset
from valuation.models import AccountingRun

from .models import IndicatorKey, KeyProject, MonitorJob, ProjectCategory, ReviewDecision
from .services import books, gep_balance, monitoring, performance, red_lines
from .services import projects as key_projects

FOREST = "示范村后山杉木林（演示）"
ADMITTED = "示范村森林康养步道（演示）"
WAITING = "示范村闲置农房民宿集群（演示）"


def _criteria(admin):
    criteria_set = key_projects.create_criteria_set(
        actor=admin,
        name="丽水市两山合作社重点项目评定标准（演示）",
        version="演示-2026",
        source="浙江省《关于两山合作社建设运营的指导意见》三(四)：制定重点项目管理办法，明确评定标准、准入和退出等动态调整机制（条款为演示）",
        criteria=[
            {
                "code": "A1",
                "title": "计划总投资不低于 100 万元",
                "description": "",
                "method": "min_investment",
                "threshold": Decimal("1000000"),
                "applies_to_evaluation": False,
            },
            {
                "code": "A2",
                "title": "社会资本占比不低于 30%",
                "description": "引入社会资本是合作社“生态产业带动”的考核重点。",
                "method": "min_social_capital_share",
                "threshold": Decimal("0.3"),
                "applies_to_evaluation": False,
            },
            {
                "code": "A3",
                "title": "GEP 占补平衡：入库后所在县 GEP 平衡余额不为负",
                "description": "",
                "method": "gep_balance",
                "threshold": None,
                "applies_to_evaluation": False,
            },
            {
                "code": "A4",
                "title": "关联资源均已确权登记且位于项目区划内",
                "description": "",
                "method": "assets_registered",
                "threshold": None,
                "applies_to_evaluation": True,
            },
            {
                "code": "A5",
                "title": "业主近 24 个月无生态违规记录",
                "description": "",
                "method": "owner_no_violations",
                "threshold": Decimal("24"),
                "applies_to_evaluation": True,
            },
            {
                "code": "A6",
                "title": "符合国土空间规划，不占用生态保护红线",
                "description": "审核人对照规划“一张图”核实。",
                "method": "manual",
                "threshold": None,
                "applies_to_evaluation": True,
            },
        ],
    )
    return key_projects.publish_criteria_set(actor=admin, criteria_set=criteria_set)


def _gep_balance(admin, staff, county, forest, today):
    runs = list(
        AccountingRun.objects.filter(accepted_at__isnull=False, asset_results__asset=forest)
        .distinct()
        .order_by("year")
    )
    gep_balance.set_rule(
        actor=admin,
        division=county,
        offset_ratio=Decimal("1.2"),
        categories=["material", "regulating", "cultural"],
        warning_balance=Decimal("1000.00"),
        effective_from=datetime.date(today.year, 1, 1),
        source="演示规则：每占用 1 元 GEP 需补充 1.2 元（指导意见三(三)“确保区域生态产品总值不下降”，机制由地方确定）",
    )
    if len(runs) < 2:
        return None
    return gep_balance.record_restoration(
        actor=staff,
        assets=[forest],
        baseline_run=runs[0],
        run=runs[-1],
        memo="后山杉木林封山育林与林相改造（演示）",
        occurred_on=today,  # a credit cannot predate the acceptance of its runs
    )


def _admitted_project(staff, admin, enterprise, forest, credit, today):
    gep, _run = gep_balance.asset_gep(forest, ["material", "regulating", "cultural"])
    # consume at most 40 % of the credit (after the 1.2 ratio), never more than 5 % of the forest
    fraction = Decimal("0.05")
    if gep and credit is not None:
        fraction = min(
            fraction,
            (credit.amount * Decimal("0.4") / (gep * Decimal("1.2"))).quantize(Decimal("0.0001"), ROUND_DOWN),
        )
    consumptions = [(forest, fraction, "步道及观景平台占用林地（演示）")] if fraction > 0 and credit else []
    project = key_projects.create_project(
        actor=staff,
        owner=enterprise,
        division=forest.division,
        name=ADMITTED,
        category=ProjectCategory.ECO_TOURISM,
        summary="依托后山杉木林建设 6 公里森林康养步道和两处观景平台，带动村民就业和农家乐经营。",
        description="步道沿现有林道修建，透水铺装；观景平台为装配式木结构；配套停车和公厕。",
        total_investment=Decimal("3800000.00"),
        social_capital=Decimal("3000000.00"),
        expected_gep_gain=Decimal("60000.00"),
        planned_start=today - datetime.timedelta(days=60),
        planned_end=today + datetime.timedelta(days=540),
        assets=[forest],
        consumptions=consumptions,
    )
    key_projects.submit_project(actor=staff, project=project)
    key_projects.review_project(
        actor=admin,
        project=project,
        decision=ReviewDecision.ADMIT,
        note="符合重点项目评定标准，同意入库（演示）",
        manual={"A6": {"met": True, "reason": "对照国土空间规划一张图，未占用生态保护红线（演示）"}},
    )
    key_projects.set_showcase(actor=staff, project=project, showcase=True, contact="0578-2000000（演示）")
    return project


def _waiting_project(staff, enterprise, village, today):
    project = key_projects.create_project(
        actor=staff,
        owner=enterprise,
        division=village,
        name=WAITING,
        category=ProjectCategory.HOMESTAY_CLUSTER,
        summary="收储村内 12 幢闲置农房，统一改造为精品民宿集群，村集体保底收益加二次分红。",
        description="",
        total_investment=Decimal("6500000.00"),
        social_capital=Decimal("5000000.00"),
        expected_gep_gain=Decimal("20000.00"),
        planned_start=today + datetime.timedelta(days=30),
        planned_end=today + datetime.timedelta(days=760),
    )
    key_projects.submit_project(actor=staff, project=project)
    return project


def _books(staff, county_coop, bank, enterprise, today):
    books.record_capital(
        actor=staff,
        cooperative=county_coop,
        amount=Decimal("20000000.00"),
        occurred_on=today - datetime.timedelta(days=300),
        reference="演示-注资-001",
        memo="区财政注入资本金（演示）",
    )
    books.record_borrowing(
        actor=staff,
        cooperative=county_coop,
        lender=bank,
        amount=Decimal("6000000.00"),
        occurred_on=today - datetime.timedelta(days=200),
        reference="演示-借款-001",
        memo="流动资金借款（演示）",
    )
    books.record_equity_stake(
        actor=staff,
        cooperative=county_coop,
        investee=enterprise,
        amount=Decimal("1000000.00"),
        share=Decimal("0.2"),
        acquired_on=today - datetime.timedelta(days=150),
        source_document="合作社党支部会议纪要〔演示〕3号（三重一大）",
        reference="演示-投资-001",
    )


def _performance(admin, today):
    scheme = performance.create_scheme(
        actor=admin,
        name="两山合作社建设绩效评价（演示方案）",
        version="演示-1",
        source="指导意见四(四)：综合考量生态资源盘活、生态产业带动、绿色金融撬动、群众增收致富等因素（权重与目标为演示值）",
        indicators=[
            {
                "key": IndicatorKey.RESOURCE_ACTIVATION,
                "weight": Decimal("30"),
                "target": Decimal("0.3"),
                "note": "",
            },
            {
                "key": IndicatorKey.INVESTMENT_ATTRACTED,
                "weight": Decimal("20"),
                "target": Decimal("10000000"),
                "note": "",
            },
            {
                "key": IndicatorKey.PROJECTS_ADMITTED,
                "weight": Decimal("10"),
                "target": Decimal("3"),
                "note": "",
            },
            {
                "key": IndicatorKey.FINANCIAL_LEVERAGE,
                "weight": Decimal("20"),
                "target": Decimal("5"),
                "note": "",
            },
            {
                "key": IndicatorKey.FARMER_INCOME,
                "weight": Decimal("20"),
                "target": Decimal("500000"),
                "note": "",
            },
        ],
    )
    return performance.evaluate_peers(
        actor=admin,
        scheme=scheme,
        level="county",
        period_start=datetime.date(today.year, 1, 1),
        period_end=today,
    )


def load_demo_projects():
    """Returns the admitted demo project, or None when the demo exists or the forest is missing."""
    if KeyProject.objects.filter(name=ADMITTED).exists():
        return None
    forest = Asset.objects.filter(name=FOREST).first()
    if forest is None:
        return None
    with transaction.atomic():
        admin = User.objects.get(username="city_admin")
        staff = User.objects.get(username="coop_staff")
        county_coop = staff.active_memberships[0].organization
        county = AdministrativeDivision.objects.get(code="331102000000")
        bank = Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")
        enterprise = Organization.objects.get(kind=OrganizationKind.ENTERPRISE, name__contains="生态旅游")
        today = timezone.localdate()
        _criteria(admin)
        credit = _gep_balance(admin, staff, county, forest, today)
        project = _admitted_project(staff, admin, enterprise, forest, credit, today)
        _waiting_project(staff, enterprise, forest.division, today)
        _books(staff, county_coop, bank, enterprise, today)
        red_lines.compute_all()
        _performance(admin, today)
    for job in MonitorJob.values:  # after commit: each run records itself
        monitoring.run_monitor(job)
    return project
