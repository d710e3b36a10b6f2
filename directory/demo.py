"""The demo region: Lishui city and its nine county-level divisions, one organization per
kind that the roles need, and one demo user per role. Idempotent: running it again changes
nothing that exists (passwords a user has changed are kept)."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tmcs import crypto
from tmcs.audit import audit_context
from tmcs.ids import national_id_check_char, uscc_check_char

from .models import AdministrativeDivision, Organization, OrganizationKind, Person, Role, User
from .services import (
    _add_membership,
    _apply_person,
    ensure_party,
    ensure_party_for_person,
    import_divisions_csv,
)

LISHUI_CSV = Path(__file__).resolve().parent / "data" / "lishui-regions.csv"

# A demo township and village under 莲都区. Their names say 演示 and their codes are not real
# statistical codes: real township and village lists are imported by the cooperative.
DEMO_VILLAGES_CSV = """code,name,level,parent_code
331102199,示范镇（演示）,township,331102
331102199201,示范村（演示）,village,331102199
"""

# Demo villagers: (name, birth date YYYYMMDD, sequence, phone). ID numbers are built with a valid
# check character from the 莲都区 address code; they belong to nobody.
DEMO_PERSONS = [
    ("张山林", "19650312", "013", "13857800001"),
    ("李秀竹", "19720805", "024", "13857800002"),
    ("王青溪", "19881120", "035", "0578-2123456"),
]


def demo_uscc(body17):
    return body17 + uscc_check_char(body17)


# (key, name, kind, division code, USCC body without its check character)
DEMO_ORGANIZATIONS = [
    (
        "city_coop",
        "丽水市两山合作社（演示）",
        OrganizationKind.COOPERATIVE,
        "331100000000",
        "91331100MA2D00001",
    ),
    (
        "county_coop",
        "莲都区两山合作社（演示）",
        OrganizationKind.COOPERATIVE,
        "331102000000",
        "91331102MA2D00002",
    ),
    (
        "village",
        "示范村股份经济合作社（演示）",
        OrganizationKind.VILLAGE_COLLECTIVE,
        "331102199201",
        "N2331102MF0000003",
    ),
    ("bank", "丽水示范农村商业银行（演示）", OrganizationKind.BANK, "331100000000", "91331100MA2D00004"),
    (
        "guarantor",
        "丽水市示范融资担保有限公司（演示）",
        OrganizationKind.GUARANTOR,
        "331100000000",
        "91331100MA2D00005",
    ),
    (
        "investor",
        "丽水示范生态旅游开发有限公司（演示）",
        OrganizationKind.ENTERPRISE,
        "331102000000",
        "91331102MA2D00006",
    ),
    (
        "insurer",
        "丽水示范财产保险股份有限公司（演示）",
        OrganizationKind.INSURER,
        "331100000000",
        "91331100MA2D00007",
    ),
    # A department that exchanges data with the platform (USCC of a state organ starts with 11).
    ("forestry", "莲都区林业局（演示）", OrganizationKind.GOVERNMENT, "331102000000", "11331102MB0000008"),
]

# (username, display name, role, organization key)
DEMO_USERS = [
    ("city_admin", "市级管理员", Role.CITY_ADMIN, "city_coop"),
    ("coop_staff", "莲都区合作社专员", Role.COOP_STAFF, "county_coop"),
    ("village_clerk", "村集体经办人", Role.VILLAGE_CLERK, "village"),
    ("bank_officer", "银行客户经理", Role.BANK_OFFICER, "bank"),
    ("guarantor_officer", "担保机构经办人", Role.GUARANTOR_OFFICER, "guarantor"),
    ("auditor", "审计员", Role.AUDITOR, "city_coop"),
    ("investor", "投资企业经办人", Role.INVESTOR, "investor"),
    ("forestry_officer", "林业部门数据专员", Role.DEPARTMENT_OFFICER, "forestry"),
]


@dataclass
class DemoAccount:
    username: str
    role_label: str
    organization: str
    password: str | None  # None when the user existed already and keeps its password


@transaction.atomic
def load_demo_region(*, csv_path=LISHUI_CSV, password=None):
    password = password or settings.TMCS_DEMO_PASSWORD
    import_divisions_csv(text=Path(csv_path).read_text(encoding="utf-8"))
    import_divisions_csv(text=DEMO_VILLAGES_CSV)
    accounts = []
    with audit_context(reason="load demo region"):
        organizations = {}
        for key, name, kind, division_code, uscc_body in DEMO_ORGANIZATIONS:
            organizations[key], _ = Organization.objects.get_or_create(
                uscc=demo_uscc(uscc_body),
                defaults={
                    "name": name,
                    "kind": kind,
                    "division": AdministrativeDivision.objects.get(code=division_code),
                },
            )
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"display_name": "平台超级管理员", "is_staff": True, "is_superuser": True},
        )
        if created:
            admin.set_password(password)
            admin.save(update_fields=["password"])
        accounts.append(DemoAccount("admin", "超级管理员", "—", password if created else None))
        for username, display_name, role, org_key in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"display_name": display_name}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            _add_membership(user=user, organization=organizations[org_key], role=role)
            accounts.append(
                DemoAccount(username, role.label, organizations[org_key].name, password if created else None)
            )
        village = AdministrativeDivision.objects.get(code="331102199201")
        for name, birth, sequence, phone in DEMO_PERSONS:
            body = f"331102{birth}{sequence}"
            number = body + national_id_check_char(body)
            if not Person.objects.filter(national_id_hash=crypto.lookup_hash("national_id", number)).exists():
                person = Person(name=name, division=village, address="示范村（演示）")
                _apply_person(
                    person,
                    {
                        "name": name,
                        "division": village,
                        "address": person.address,
                        "national_id": number,
                        "phone": phone,
                    },
                )
                person.save()
                ensure_party_for_person(person)
        for organization in organizations.values():
            ensure_party(organization)
    return accounts
