"""Demo assets in the demo village, so that the registry pages have something true to show.
Idempotent: assets are found again by name."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Person, User
from directory.services import ensure_party, ensure_party_for_person

from . import services
from .catalog import seed_catalog
from .listings import create_listing
from .models import Asset, IdleAssetListing, Registration, ResourceType
from .registration import close_due_notices, review_registration, submit_registration

X0, Y0 = 119.920, 28.450


def _square(dx, dy, size):
    x, y = X0 + dx, Y0 + dy
    return f"SRID=4490;POLYGON(({x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}))"


@transaction.atomic
def load_demo_assets():
    seed_catalog(ResourceType)
    staff = User.objects.get(username="coop_staff")
    village = AdministrativeDivision.objects.get(code="331102199201")
    collective = ensure_party(
        Organization.objects.get(kind=OrganizationKind.VILLAGE_COLLECTIVE, division=village)
    )
    household = ensure_party_for_person(Person.objects.filter(division=village).order_by("pk").first())
    created = []
    plans = [
        (
            "示范村后山杉木林（演示）",
            "forest",
            _square(0, 0, 0.004),
            {
                "dominant_species": "杉木",
                "age_class": "中龄林",
                "stock_volume_m3": 860,
                "forest_class": "商品林",
            },
            "registered",
        ),
        (
            "示范村东畈耕地（演示）",
            "farmland",
            _square(0.005, 0, 0.002),
            {"land_class": "0101 水田", "soil_grade": 4, "irrigated": True},
            "submitted",
        ),
        (
            "示范村闲置农房（演示）",
            "farmhouse",
            _square(0.005, 0.003, 0.0002),
            {"floor_area_m2": 186.5, "storeys": 2, "condition": "基本完好", "structure": "砖木"},
            "draft",
        ),
    ]
    for name, type_code, geometry, attributes, stage in plans:
        if Asset.objects.filter(name=name).exists():
            continue
        asset = services.create_asset(
            actor=staff,
            resource_type=ResourceType.objects.get(code=type_code),
            division=village,
            name=name,
            geometry=geometry,
            attributes=attributes,
        )
        created.append(asset)
        if stage == "draft":
            continue
        registration = submit_registration(actor=staff, asset=asset)
        if stage == "registered":
            review_registration(actor=staff, registration=registration, approve=True, note="演示数据")
            # The demo's notice ran over the past week, so that it has ended by now.
            now = timezone.now()
            Registration.objects.filter(pk=registration.pk).update(
                notice_starts_at=now - datetime.timedelta(days=settings.TMCS_PUBLIC_NOTICE_DAYS),
                notice_ends_at=now,
            )
            close_due_notices(now=now)
        if type_code == "forest":
            services.grant_right(
                actor=staff,
                asset=asset,
                holder=collective,
                kind="ownership",
                start=datetime.date(2020, 1, 1),
                source_document="集体林权证（演示）",
            )
            # Re-surveys of the stand's area (亩, the type's unit) and its quality grade.
            for year, mu, grade in (
                (2021, "258.90", "II"),
                (2022, "259.40", "II"),
                (2023, "260.10", "I"),
                (2024, "260.50", "I"),
                (2025, "260.53", "I"),
            ):
                services.record_observation(
                    actor=staff,
                    asset=asset,
                    observed_on=datetime.date(year, 9, 30),
                    quantity=mu,
                    quality_grade=grade,
                    source="森林资源二类调查（演示）",
                )
            services.grant_right(
                actor=staff,
                asset=asset,
                holder=household,
                kind="contract",
                start=datetime.date(2020, 1, 1),
                end=datetime.date(2050, 1, 1),
                source_document="林地承包合同（演示）",
            )
    clerk = User.objects.get(username="village_clerk")
    if not IdleAssetListing.objects.filter(title="示范村闲置老粮仓（演示）").exists():
        create_listing(
            actor=clerk,
            resource_type=ResourceType.objects.get(code="collective_building"),
            title="示范村闲置老粮仓（演示）",
            description="村集体老粮仓一座，砖木结构，约 320 平方米，空置多年，适合改作民宿或展馆。",
            location="示范村村委会东侧",
            area_estimate_m2="320",
            expected_use="lease",
            expected_price="30000",
            price_note="每年",
        )
    return created
