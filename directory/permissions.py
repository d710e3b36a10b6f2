"""Who may do what, where. One table of capabilities per role and one rule of reach per role,
used by the selectors (reads) and the services (writes), for the web and the API alike.

Reach:
- cooperative staff, administrators and auditors: their organization's division subtree;
- village clerks: their collective's division subtree (a village);
- bank and guarantor officers: their own organization, plus persons explicitly granted to it
  (PersonAccessGrant, enforced with django-guardian object permissions).
"""

from enum import StrEnum

from .models import OrganizationKind, Role


class Capability(StrEnum):
    VIEW = "view"  # see the directory within reach
    MANAGE_ORGANIZATIONS = "manage_organizations"
    MANAGE_PERSONS = "manage_persons"
    VIEW_FULL_IDENTIFIERS = "view_full_identifiers"  # unmasked ID and phone numbers (logged)
    MANAGE_USERS = "manage_users"
    MANAGE_API_CLIENTS = "manage_api_clients"
    IMPORT_DIVISIONS = "import_divisions"
    GRANT_PERSON_ACCESS = "grant_person_access"
    # resources
    DRAFT_ASSETS = "draft_assets"  # record assets as drafts and submit them for review
    MANAGE_REGISTRY = "manage_registry"  # review assets, record and end rights and restrictions
    # add and edit types of the eco-product catalog (生态产品目录); the catalog is platform-wide,
    # so only the city cooperative's administrators hold it
    MANAGE_CATALOG = "manage_catalog"
    # valuation: parameter sets are platform-wide (city admins); inputs, runs and their adoption
    # belong to the county/township staff of the division (adoption by a second person)
    MANAGE_VALUATION = "manage_valuation"
    MANAGE_VALUATION_INPUTS = "manage_valuation_inputs"
    RUN_VALUATION = "run_valuation"
    ACCEPT_VALUATION = "accept_valuation"
    # transactions: the cooperative's trading desk (collection contracts, packages, listings,
    # investor qualification, trade contracts, settlement and distribution) in its divisions;
    # investors trade for their own organization (apply, bid, sign, pay, post demands)
    MANAGE_TRADING = "manage_trading"
    TRADE = "trade"
    # finance: the cooperative's loan desk prepares and checks applications (two people), appraises
    # collateral, registers and releases pledges, declares defaults and disposes of collateral;
    # banks run their own products, decide applications and report disbursements and repayments;
    # scorecards are platform-wide (city admins); eco behaviour is recorded where it happens
    MANAGE_LOANS = "manage_loans"
    LEND = "lend"
    MANAGE_SCORECARDS = "manage_scorecards"
    RECORD_ECO_BEHAVIOUR = "record_eco_behaviour"
    # projects: the cooperative's desk prepares and reviews key projects (admission by a second
    # person), keeps the GEP balance ledger and the cooperative's own books (capital, borrowings,
    # equity stakes); owners (investors, village clerks) apply for their own organization; red-line
    # thresholds, evaluation schemes and monitoring are platform-wide (city admins); the leaders'
    # dashboard, red lines and performance are read by staff, administrators and auditors
    MANAGE_PROJECTS = "manage_projects"
    APPLY_PROJECTS = "apply_projects"
    MANAGE_OVERSIGHT = "manage_oversight"
    VIEW_OVERSIGHT = "view_oversight"
    # greenfinance: the cooperative's desk records green insurance policies and claims and keeps
    # the green bonds and funds it uses or manages (every movement through the ledger)
    MANAGE_GREEN_FINANCE = "manage_green_finance"
    # exchange: staff and department officers import and export datasets for their division;
    # staff record credit consents and produce credit reports; guarantee and credit platforms
    # fetch the reports addressed to their own organization
    EXCHANGE_DATA = "exchange_data"
    MANAGE_CONSENTS = "manage_consents"
    RECEIVE_CREDIT_REPORTS = "receive_credit_reports"
    # brand: the cooperative's desk licenses producers to use the regional brand, inspects them and
    # suspends or withdraws licences; licensed producers (investors' enterprises, village
    # collectives through their clerks) and staff on their behalf record batches and sales
    MANAGE_BRAND = "manage_brand"
    RECORD_PRODUCTION = "record_production"


C = Capability
ROLE_CAPABILITIES = {
    Role.CITY_ADMIN: frozenset(C),
    Role.COOP_STAFF: frozenset(
        {
            C.VIEW,
            C.MANAGE_ORGANIZATIONS,
            C.MANAGE_PERSONS,
            C.VIEW_FULL_IDENTIFIERS,
            C.GRANT_PERSON_ACCESS,
            C.DRAFT_ASSETS,
            C.MANAGE_REGISTRY,
            C.MANAGE_VALUATION_INPUTS,
            C.RUN_VALUATION,
            C.ACCEPT_VALUATION,
            C.MANAGE_TRADING,
            C.MANAGE_LOANS,
            C.RECORD_ECO_BEHAVIOUR,
            C.MANAGE_PROJECTS,
            C.VIEW_OVERSIGHT,
            C.MANAGE_GREEN_FINANCE,
            C.EXCHANGE_DATA,
            C.MANAGE_CONSENTS,
            C.MANAGE_BRAND,
            C.RECORD_PRODUCTION,
        }
    ),
    Role.VILLAGE_CLERK: frozenset(
        {
            C.VIEW,
            C.MANAGE_PERSONS,
            C.DRAFT_ASSETS,
            C.RECORD_ECO_BEHAVIOUR,
            C.APPLY_PROJECTS,
            C.RECORD_PRODUCTION,
        }
    ),
    Role.BANK_OFFICER: frozenset({C.VIEW, C.VIEW_FULL_IDENTIFIERS, C.MANAGE_API_CLIENTS, C.LEND}),
    Role.GUARANTOR_OFFICER: frozenset({C.VIEW, C.MANAGE_API_CLIENTS, C.RECEIVE_CREDIT_REPORTS}),
    Role.AUDITOR: frozenset({C.VIEW, C.VIEW_OVERSIGHT}),
    Role.INVESTOR: frozenset({C.VIEW, C.TRADE, C.APPLY_PROJECTS, C.RECORD_PRODUCTION}),
    Role.DEPARTMENT_OFFICER: frozenset({C.MANAGE_API_CLIENTS, C.EXCHANGE_DATA}),
}

# Roles whose reach is their own organization rather than a division subtree.
ORGANIZATION_SCOPED_ROLES = frozenset({Role.BANK_OFFICER, Role.GUARANTOR_OFFICER, Role.INVESTOR})

# Kinds of organization that only a city administrator may create or change: they define who
# runs the platform and who may lend on it.
RESERVED_ORGANIZATION_KINDS = frozenset(
    {
        OrganizationKind.COOPERATIVE,
        OrganizationKind.BANK,
        OrganizationKind.GUARANTOR,
        OrganizationKind.GOVERNMENT,
    }
)


def memberships_with(user, capability):
    """The user's active memberships whose role carries the capability."""
    if not user.is_authenticated:
        return []
    return [m for m in user.active_memberships if capability in ROLE_CAPABILITIES[m.role]]


def is_division_scoped(membership):
    return membership.role not in ORGANIZATION_SCOPED_ROLES


def covers_division(membership, division):
    """Does this membership reach a record that lives in `division`?"""
    return (
        is_division_scoped(membership)
        and division is not None
        and membership.organization.division.contains(division)
    )


def can(user, capability, *, division=None, organization=None):
    """May `user` use `capability` on something in `division` (or on `organization` itself)?

    With neither given, answers whether the user has the capability anywhere.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    for membership in memberships_with(user, capability):
        if division is None and organization is None:
            return True
        if organization is not None and membership.organization_id == organization.pk:
            return True
        target = division if division is not None else getattr(organization, "division", None)
        if covers_division(membership, target):
            return True
    return False


def can_manage_organization_kind(user, kind):
    return (
        user.is_superuser or kind not in RESERVED_ORGANIZATION_KINDS or Role.CITY_ADMIN in user.active_roles
    )
