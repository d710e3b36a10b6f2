"""Demo brand and traceability, through the services only: the city cooperative's regional brand
丽水山耕 with a tea standard; the demo village collective's tea garden registered through 公示 and
licensed; a spring-tea batch tested, certified and sold over three months (the trade record a bank
reads), a base inspection; and the daily checkpoint of the public journal for the day before.
Idempotent: returns None when the demo brand exists."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Person, User
from directory.services import ensure_party, ensure_party_for_person
from resources import services as registry
from resources.models import Registration, ResourceType
from resources.registration import close_due_notices, review_registration, submit_registration

from .models import Brand, ProductCategory
from .services import batches, licences, lifecycle, records, trade

BRAND = "丽水山耕"
GARDEN = "示范村高山茶园（演示）"
X0, Y0 = 119.920, 28.450


def _tea_garden(staff, village):
    square = 0.0015
    x, y = X0 + 0.010, Y0
    garden = registry.create_asset(
        actor=staff,
        resource_type=ResourceType.objects.get(code="tea_garden"),
        division=village,
        name=GARDEN,
        geometry=f"SRID=4490;POLYGON(({x} {y}, {x + square} {y}, {x + square} {y + square}, {x} {y + square}, {x} {y}))",
        attributes={},
    )
    registration = submit_registration(actor=staff, asset=garden)
    review_registration(actor=staff, registration=registration, approve=True, note="演示数据")
    now = timezone.now()
    Registration.objects.filter(pk=registration.pk).update(
        notice_starts_at=now - datetime.timedelta(days=settings.TMCS_PUBLIC_NOTICE_DAYS), notice_ends_at=now
    )
    close_due_notices(now=now)
    collective = Organization.objects.get(kind=OrganizationKind.VILLAGE_COLLECTIVE, division=village)
    registry.grant_right(
        actor=staff, asset=garden, holder=ensure_party(collective), kind="ownership",
        start=datetime.date(2020, 1, 1), source_document="集体土地所有权证（演示）",
    )  # fmt: skip
    household = ensure_party_for_person(Person.objects.filter(division=village).order_by("pk").first())
    registry.grant_right(
        actor=staff, asset=garden, holder=household, kind="contract",
        start=datetime.date(2020, 1, 1), source_document="农村土地承包经营权证（演示）",
    )  # fmt: skip
    garden.refresh_from_db()
    return garden, collective


@transaction.atomic
def load_demo_brand():
    if Brand.objects.filter(name=BRAND).exists():
        return None
    admin = User.objects.get(username="city_admin")
    staff = User.objects.get(username="coop_staff")
    clerk = User.objects.get(username="village_clerk")
    city = AdministrativeDivision.objects.get(code="331100000000")
    village = AdministrativeDivision.objects.get(code="331102199201")
    city_coop = Organization.objects.get(kind=OrganizationKind.COOPERATIVE, division=city)
    brand = licences.create_brand(
        actor=admin, name=BRAND, owner=city_coop, division=city, established_on=datetime.date(2014, 9, 1),
        description="丽水市农产品区域公用品牌，覆盖全市生态农产品，实行基地授权、标准生产、全程溯源。",
    )  # fmt: skip
    standard = licences.add_standard(
        actor=admin, brand=brand, code="T/LSSG 001—2019（演示）", title="丽水山耕 茶叶",
        category=ProductCategory.TEA, effective_from=datetime.date(2019, 6, 1),
        requirements="基地海拔与生态环境、禁限用农药清单、采摘标准与加工卫生、产品检测项目与限量。",
    )  # fmt: skip
    garden, collective = _tea_garden(staff, village)
    today = timezone.localdate()
    licence = licences.grant_licence(
        actor=staff, brand=brand, producer=collective, division=village.parent.parent,
        categories=[ProductCategory.TEA], standards=[standard], origin_assets=[garden],
        valid_from=datetime.date(today.year, 1, 1), valid_to=datetime.date(today.year + 2, 12, 31),
        document="丽水山耕授权〔演示〕1号",
    )  # fmt: skip
    lifecycle.record_inspection(
        actor=staff, licence=licence, kind="routine", inspected_on=today - datetime.timedelta(days=60),
        inspector="丽水山耕品牌运营中心（演示）", result="pass", findings="基地生态良好，投入品台账齐全，采摘记录完整。",
    )  # fmt: skip
    produced = today - datetime.timedelta(days=100)
    batch = batches.register_batch(
        actor=clerk, licence=licence, product_name="丽水山耕·示范村高山绿茶", category=ProductCategory.TEA,
        standard=standard, origin_assets=[garden], harvest_start=produced - datetime.timedelta(days=20),
        harvest_end=produced - datetime.timedelta(days=5), produced_on=produced, quantity="800", unit="kg",
    )  # fmt: skip
    records.record_test(
        actor=clerk, batch=batch, tested_on=produced + datetime.timedelta(days=2),
        laboratory="丽水市农产品质量安全检测中心（演示）", report_number="JC-演示-0001", passed=True,
        items=[
            {"item": "农药残留（62项）", "value": "未检出", "passed": True},
            {"item": "铅（以Pb计）", "value": "0.21", "limit": "5.0", "unit": "mg/kg", "passed": True},
        ],
    )  # fmt: skip
    records.add_certificate(
        actor=clerk,
        batch=batch,
        kind="compliance",
        number="HGZ-演示-0001",
        issuer="示范村股份经济合作社（演示）",
    )
    for days, quantity, amount, buyer, channel in (
        (90, "300", "48000.00", "丽水茶叶市场某茶行（演示）", "wholesale"),
        (60, "200", "33000.00", "杭州某茶业公司（演示）", "wholesale"),
        (30, "120", "24000.00", "电商旗舰店（演示）", "online"),
    ):
        trade.record_sale(
            actor=clerk, batch=batch, sold_on=today - datetime.timedelta(days=days), channel=channel,
            buyer_name=buyer, quantity=quantity, amount=amount, invoice_number=f"FP-演示-{days}",
        )  # fmt: skip
    return batch
