"""Role × (own, sibling, parent division) × (list, detail, create, update), in the web UI and the API,
for organizations and persons. The expectations are written out here, not derived from the code."""

import pytest
from rest_framework.test import APIClient

from directory import services
from directory.models import AdministrativeDivision, Organization, OrganizationKind, Person, Role, User
from directory.permissions import Capability, can
from tmcs.ids import national_id_check_char

Y, N = True, False
# role: {place: (list, detail, create, update)}
ORGANIZATION_EXPECTED = {
    Role.CITY_ADMIN: {"own": (Y, Y, Y, Y), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.COOP_STAFF: {"own": (Y, Y, Y, Y), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.VILLAGE_CLERK: {"own": (Y, Y, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.BANK_OFFICER: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.GUARANTOR_OFFICER: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.AUDITOR: {"own": (Y, Y, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    # An investor acts for its own enterprise, which the directory does not list to it.
    Role.INVESTOR: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    # A department exchanges datasets; it does not browse the directory (PIPL: least access).
    Role.DEPARTMENT_OFFICER: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
}
PERSON_EXPECTED = {
    Role.CITY_ADMIN: {"own": (Y, Y, Y, Y), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.COOP_STAFF: {"own": (Y, Y, Y, Y), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.VILLAGE_CLERK: {"own": (Y, Y, Y, Y), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.BANK_OFFICER: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.GUARANTOR_OFFICER: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    Role.AUDITOR: {"own": (Y, Y, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    # An investor acts for its own enterprise, which the directory does not list to it.
    Role.INVESTOR: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
    # A department exchanges datasets; it does not browse the directory (PIPL: least access).
    Role.DEPARTMENT_OFFICER: {"own": (N, N, N, N), "sibling": (N, N, N, N), "parent": (N, N, N, N)},
}
# Where each role's organization sits, and its sibling and parent divisions.
PLACES = {
    "city": {"own": "331100000000", "sibling": "330100000000", "parent": "330000000000"},
    "county": {"own": "331102000000", "sibling": "331121000000", "parent": "331100000000"},
    "village": {"own": "331102199201", "sibling": "331102199202", "parent": "331102199000"},
}
ROLE_PLACE = {
    Role.CITY_ADMIN: "city",
    Role.COOP_STAFF: "county",
    Role.VILLAGE_CLERK: "village",
    Role.BANK_OFFICER: "city",
    Role.GUARANTOR_OFFICER: "city",
    Role.AUDITOR: "city",
    Role.INVESTOR: "county",
    Role.DEPARTMENT_OFFICER: "county",
}
ROLE_ORG_KIND = {
    Role.CITY_ADMIN: OrganizationKind.COOPERATIVE,
    Role.COOP_STAFF: OrganizationKind.COOPERATIVE,
    Role.VILLAGE_CLERK: OrganizationKind.VILLAGE_COLLECTIVE,
    Role.BANK_OFFICER: OrganizationKind.BANK,
    Role.GUARANTOR_OFFICER: OrganizationKind.GUARANTOR,
    Role.AUDITOR: OrganizationKind.COOPERATIVE,
    Role.INVESTOR: OrganizationKind.ENTERPRISE,
    Role.DEPARTMENT_OFFICER: OrganizationKind.GOVERNMENT,
}
_ids = iter(range(100, 999))


def _national_id():
    body = f"33110219900101{next(_ids):03d}"
    return body + national_id_check_char(body)


@pytest.fixture
def world(demo_region):
    admin = User.objects.get(username="admin")
    services.import_divisions_csv(
        text="code,name,level,parent_code\n330100,杭州市,city,330000\n331102199202,邻村（演示）,village,331102199\n"
    )
    divisions = {
        code: AdministrativeDivision.objects.get(code=code) for p in PLACES.values() for code in p.values()
    }
    organizations, persons = {}, {}
    for code, division in divisions.items():
        organizations[code] = services.create_organization(
            actor=admin, name=f"目标企业{code}", kind=OrganizationKind.ENTERPRISE, division=division
        )
        persons[code] = services.create_person(
            actor=admin, name=f"目标人{code}", national_id=_national_id(), division=division
        )
    return {"admin": admin, "divisions": divisions, "organizations": organizations, "persons": persons}


def _member(world, role):
    place = PLACES[ROLE_PLACE[role]]["own"]
    organization = services.create_organization(
        actor=world["admin"],
        name=f"{role}的机构",
        kind=ROLE_ORG_KIND[role],
        division=world["divisions"][place],
    )
    return services.create_user(
        actor=world["admin"],
        username=f"m-{role}",
        display_name=role,
        password="Very-long-password-1",
        organization=organization,
        role=role,
    )


class Web:
    def __init__(self, client, user):
        client.force_login(user)
        self.client = client

    def listed(self, kind, obj):
        return f">{obj.name}</a>" in self.client.get(f"/directory/{kind}/?page_size=500").content.decode()

    def detail(self, kind, obj):
        return self.client.get(f"/directory/{kind}/{obj.pk}/").status_code == 200

    def create(self, kind, division, name):
        data = {"name": name, "division": division.pk}
        data |= (
            {"kind": "enterprise", "is_active": "on"}
            if kind == "organizations"
            else {"national_id": _national_id()}
        )
        return self.client.post(f"/directory/{kind}/new/", data).status_code == 302

    def update(self, kind, obj, name):
        data = {"name": name, "division": obj.division_id}
        data |= {"kind": obj.kind, "is_active": "on"} if kind == "organizations" else {}
        return self.client.post(f"/directory/{kind}/{obj.pk}/edit/", data).status_code == 302


class Api:
    def __init__(self, user):
        self.client = APIClient()
        self.client.force_authenticate(user)

    def listed(self, kind, obj):
        body = self.client.get(f"/api/v1/directory/{kind}/?page_size=500").json()
        return obj.pk in [row["id"] for row in body["results"]]

    def detail(self, kind, obj):
        return self.client.get(f"/api/v1/directory/{kind}/{obj.pk}/").status_code == 200

    def create(self, kind, division, name):
        data = {"name": name, "division": division.code}
        data |= {"kind": "enterprise"} if kind == "organizations" else {"national_id": _national_id()}
        return self.client.post(f"/api/v1/directory/{kind}/", data, format="json").status_code == 201

    def update(self, kind, obj, name):
        return (
            self.client.patch(
                f"/api/v1/directory/{kind}/{obj.pk}/", {"name": name}, format="json"
            ).status_code
            == 200
        )


@pytest.mark.parametrize("channel", ["web", "api"])
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("kind", "expected"), [("organizations", ORGANIZATION_EXPECTED), ("persons", PERSON_EXPECTED)]
)
def test_permission_matrix(world, client, role, channel, kind, expected):
    user = _member(world, role)
    actor = Web(client, user) if channel == "web" else Api(user)
    model = Organization if kind == "organizations" else Person
    targets = world["organizations"] if kind == "organizations" else world["persons"]
    observed = {}
    for place, code in PLACES[ROLE_PLACE[role]].items():
        target = targets[code]
        new_name = f"新{kind}{place}{channel}"
        observed[place] = (
            actor.listed(kind, target),
            actor.detail(kind, target),
            actor.create(kind, world["divisions"][code], f"建{kind}{place}{channel}"),
            actor.update(kind, target, new_name),
        )
        # What the answers claim is what the database holds.
        assert model.objects.filter(name=f"建{kind}{place}{channel}").exists() == observed[place][2]
        assert model.objects.get(pk=target.pk).name == (new_name if observed[place][3] else target.name)
    assert observed == expected[role]


def test_bank_never_sees_another_banks_organization_or_clients(world):
    bank_a = _member(world, Role.BANK_OFFICER)
    other_bank = services.create_organization(
        actor=world["admin"],
        name="另一家银行",
        kind=OrganizationKind.BANK,
        division=world["divisions"]["331100000000"],
    )
    client_person = world["persons"]["331102000000"]
    services.grant_person_access(
        actor=world["admin"], person=client_person, organization=other_bank, reason="授权书 B-1"
    )
    api = Api(bank_a)
    assert not api.detail("organizations", other_bank)
    assert not api.listed("persons", client_person)
    assert not api.detail("persons", client_person)
    # Its own organization it does see.
    own = bank_a.active_memberships[0].organization
    assert api.detail("organizations", own)


def test_granted_person_is_visible_to_the_bank_until_revoked(world):
    bank_user = _member(world, Role.BANK_OFFICER)
    bank = bank_user.active_memberships[0].organization
    person = world["persons"]["331102000000"]
    api = Api(bank_user)
    assert not api.detail("persons", person)
    grant = services.grant_person_access(
        actor=world["admin"], person=person, organization=bank, reason="借款授权书 2026-001"
    )
    assert api.listed("persons", person) and api.detail("persons", person)
    assert not api.update("persons", person, "改名")  # seeing is not editing
    services.revoke_person_access(actor=world["admin"], grant=grant)
    assert not api.detail("persons", person)


# The eco-product catalog is platform-wide: only the city cooperative's administrators change it.
CATALOG_MANAGERS = {
    Role.CITY_ADMIN: Y,
    Role.COOP_STAFF: N,
    Role.VILLAGE_CLERK: N,
    Role.BANK_OFFICER: N,
    Role.GUARANTOR_OFFICER: N,
    Role.AUDITOR: N,
    Role.INVESTOR: N,
    Role.DEPARTMENT_OFFICER: N,
}


@pytest.mark.parametrize("role", list(Role))
def test_who_manages_the_resource_catalog(world, role):
    user = _member(world, role)
    assert can(user, Capability.MANAGE_CATALOG) == CATALOG_MANAGERS[role]


VALUATION = {
    Role.CITY_ADMIN: {"manage_valuation", "manage_valuation_inputs", "run_valuation", "accept_valuation"},
    Role.COOP_STAFF: {"manage_valuation_inputs", "run_valuation", "accept_valuation"},
    Role.VILLAGE_CLERK: set(),
    Role.BANK_OFFICER: set(),
    Role.GUARANTOR_OFFICER: set(),
    Role.AUDITOR: set(),
    Role.INVESTOR: set(),
    Role.DEPARTMENT_OFFICER: set(),
}


@pytest.mark.parametrize("role", list(Role))
def test_who_values_resources(world, role):
    user = _member(world, role)
    held = {
        c.value
        for c in (
            Capability.MANAGE_VALUATION,
            Capability.MANAGE_VALUATION_INPUTS,
            Capability.RUN_VALUATION,
            Capability.ACCEPT_VALUATION,
        )
        if can(user, c)
    }
    assert held == VALUATION[role]


# Finance: the cooperative's loan desk prepares, checks and disposes; banks lend on their own
# products; scorecards are platform-wide; eco behaviour is recorded where it happens.
FINANCE = {
    Role.CITY_ADMIN: {"manage_loans", "lend", "manage_scorecards", "record_eco_behaviour"},
    Role.COOP_STAFF: {"manage_loans", "record_eco_behaviour"},
    Role.VILLAGE_CLERK: {"record_eco_behaviour"},
    Role.BANK_OFFICER: {"lend"},
    Role.GUARANTOR_OFFICER: set(),
    Role.AUDITOR: set(),
    Role.INVESTOR: set(),
    Role.DEPARTMENT_OFFICER: set(),
}


@pytest.mark.parametrize("role", list(Role))
def test_who_works_on_loans(world, role):
    user = _member(world, role)
    held = {
        c.value
        for c in (
            Capability.MANAGE_LOANS,
            Capability.LEND,
            Capability.MANAGE_SCORECARDS,
            Capability.RECORD_ECO_BEHAVIOUR,
        )
        if can(user, c)
    }
    assert held == FINANCE[role]


# Projects: the cooperative's desk runs the key project list and its own books; owners apply for
# their own organization; thresholds and schemes are platform-wide; oversight is read by staff,
# administrators and auditors.
PROJECTS = {
    Role.CITY_ADMIN: {"manage_projects", "apply_projects", "manage_oversight", "view_oversight"},
    Role.COOP_STAFF: {"manage_projects", "view_oversight"},
    Role.VILLAGE_CLERK: {"apply_projects"},
    Role.BANK_OFFICER: set(),
    Role.GUARANTOR_OFFICER: set(),
    Role.AUDITOR: {"view_oversight"},
    Role.INVESTOR: {"apply_projects"},
    Role.DEPARTMENT_OFFICER: set(),
}


@pytest.mark.parametrize("role", list(Role))
def test_who_works_on_projects(world, role):
    user = _member(world, role)
    held = {
        c.value
        for c in (
            Capability.MANAGE_PROJECTS,
            Capability.APPLY_PROJECTS,
            Capability.MANAGE_OVERSIGHT,
            Capability.VIEW_OVERSIGHT,
        )
        if can(user, c)
    }
    assert held == PROJECTS[role]


# Green finance, data exchange and credit reports (issue 10).
GREEN_AND_EXCHANGE = {
    Role.CITY_ADMIN: {"manage_green_finance", "exchange_data", "manage_consents", "receive_credit_reports"},
    Role.COOP_STAFF: {"manage_green_finance", "exchange_data", "manage_consents"},
    Role.VILLAGE_CLERK: set(),
    Role.BANK_OFFICER: set(),
    Role.GUARANTOR_OFFICER: {"receive_credit_reports"},
    Role.AUDITOR: set(),
    Role.INVESTOR: set(),
    Role.DEPARTMENT_OFFICER: {"exchange_data"},
}


@pytest.mark.parametrize("role", list(Role))
def test_who_works_on_green_finance_and_data_exchange(world, role):
    user = _member(world, role)
    held = {
        c.value
        for c in (
            Capability.MANAGE_GREEN_FINANCE,
            Capability.EXCHANGE_DATA,
            Capability.MANAGE_CONSENTS,
            Capability.RECEIVE_CREDIT_REPORTS,
        )
        if can(user, c)
    }
    assert held == GREEN_AND_EXCHANGE[role]


# Brand licensing and production records (issue 11).
BRAND = {
    Role.CITY_ADMIN: {"manage_brand", "record_production"},
    Role.COOP_STAFF: {"manage_brand", "record_production"},
    Role.VILLAGE_CLERK: {"record_production"},
    Role.BANK_OFFICER: set(),
    Role.GUARANTOR_OFFICER: set(),
    Role.AUDITOR: set(),
    Role.INVESTOR: {"record_production"},
    Role.DEPARTMENT_OFFICER: set(),
}


@pytest.mark.parametrize("role", list(Role))
def test_who_licenses_the_brand_and_records_production(world, role):
    user = _member(world, role)
    held = {c.value for c in (Capability.MANAGE_BRAND, Capability.RECORD_PRODUCTION) if can(user, c)}
    assert held == BRAND[role]
