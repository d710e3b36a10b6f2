"""Demo data exchange, through the services only: the forestry bureau's data officer imports a
timber harvest permit for the demo forest (JSON, logged), the cooperative exports the village's
parcels as GeoJSON (logged), and the demo forest household's consent lets its eco-credit score and
loan record go to the demo guarantor in a credit report; the other borrowers without consent are
withheld. Idempotent: returns None when the demo consent exists or its upstream data is missing."""

import datetime
import json

from django.db import transaction
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, User
from finance.models import Loan
from resources.models import Asset

from .models import Channel, ConsentScope, CreditConsent, Dataset, ExchangeFormat
from .services import credit, datasets

FOREST = "示范村后山杉木林（演示）"
CONSENT_DOCUMENT = "信用信息报送授权书（演示）-001"


def _harvest_permit(officer, forestry, forest, today):
    rows = [
        {
            "number": "LM-331102-演示-2026-001",
            "asset": forest.code,
            "holder_name": "示范村股份经济合作社（演示）",
            "issuer": forestry.name,
            "species": "杉木",
            "harvest_type": "抚育采伐",
            "area_mu": "20",
            "volume_m3": "58.5",
            "valid_from": (today - datetime.timedelta(days=10)).isoformat(),
            "valid_until": (today + datetime.timedelta(days=80)).isoformat(),
        }
    ]
    return datasets.import_dataset(
        actor=officer,
        dataset=Dataset.HARVEST_PERMITS,
        fmt=ExchangeFormat.JSON,
        division=forestry.division,
        channel=Channel.API,
        content=json.dumps({"rows": rows}, ensure_ascii=False),
        file_name="harvest-permits-demo.json",
        organization=forestry,
    )


def load_demo_exchange():
    loan = Loan.objects.filter(application__product__code="GEP-01").select_related("application").first()
    forest = Asset.objects.filter(name=FOREST).first()
    guarantor = Organization.objects.filter(kind=OrganizationKind.GUARANTOR, name__contains="演示").first()
    forestry = Organization.objects.filter(
        kind=OrganizationKind.GOVERNMENT, name="莲都区林业局（演示）"
    ).first()
    if loan is None or forest is None or guarantor is None or forestry is None:
        return None
    if CreditConsent.objects.filter(document=CONSENT_DOCUMENT).exists():
        return None
    staff = User.objects.get(username="coop_staff")
    officer = User.objects.get(username="forestry_officer")
    today = timezone.localdate()
    county = AdministrativeDivision.objects.get(code="331102000000")
    with transaction.atomic():
        _harvest_permit(officer, forestry, forest, today)
        datasets.export_dataset(
            actor=staff,
            dataset=Dataset.PARCELS,
            fmt=ExchangeFormat.GEOJSON,
            division=forest.division,
            channel=Channel.WEB,
            organization=forestry,  # the bureau asked for the village's parcels
        )
        consent = credit.record_consent(
            actor=staff,
            party=loan.application.applicant,
            recipient=guarantor,
            purpose="申请农业信贷担保（浙里担类平台）时由担保机构查询生态信用与贷款履约情况（演示）",
            scopes=[ConsentScope.ECO_CREDIT, ConsentScope.LOAN_PERFORMANCE],
            document=CONSENT_DOCUMENT,
            signed_on=today - datetime.timedelta(days=7),
            valid_from=today - datetime.timedelta(days=7),
            valid_until=today.replace(year=today.year + 1),
        )
        credit.create_credit_export(actor=staff, recipient=guarantor, division=county, as_of=today)
    return consent
