"""Collateral lookup (押品查询) for banks and the cooperative's loan desk.

One lookup key per call: the asset (id or code), a certificate number (a right's certificate or the
registry's 登记证明), the holder's national ID or the holder's USCC. A bank sees assets of the
registered ledger (the registry is public in the way the PBoC 动产融资统一登记公示系统 is), but a
lookup by a person's ID number only answers when that person has authorised the bank
(`PersonAccessGrant`); otherwise it answers exactly as if nobody had that number. Cooperative staff
look up assets within their divisions.

Everything a response needs is read in a fixed number of queries, whatever the number of rights,
restrictions, valuations and appraisals: the asset page (with its bounding box from PostGIS), three
prefetches and one grouped query of valuation history.
"""

from dataclasses import dataclass

from django.db.models import F, FloatField, Func, Prefetch, Q, Sum
from django.utils.translation import gettext as _

from directory.models import Organization, Person
from directory.permissions import Capability, can
from directory.selectors import within_reach
from resources.models import (
    Asset,
    AssetStatus,
    Registration,
    RegistrationStatus,
    Restriction,
    Right,
    RightStatus,
)
from tmcs import crypto
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.ids import IdentifierError, normalize_national_id, normalize_uscc
from valuation.models import AssetResult

from .models import CollateralAppraisal
from .services.common import acting_bank

LOOKUP_PARAMETERS = ("asset", "certificate", "holder_id", "holder_uscc")

# The registered ledger: what a bank may look up (drafts and assets under review are not yet
# anybody's collateral; retired assets no longer exist as collateral).
LEDGER_STATUSES = [
    AssetStatus.REGISTERED,
    AssetStatus.COLLECTED,
    AssetStatus.LISTED,
    AssetStatus.LEASED,
    AssetStatus.PLEDGED,
]


class NotAuthorisedByHolder(DomainError):
    """A bank asked by ID number for a person who has not authorised it (or does not exist: the
    answer is the same, so that a bank cannot probe who is registered)."""

    code = "not_authorised_by_holder"
    status_code = 404


class NothingFound(DomainError):
    code = "not_found"
    status_code = 404


@dataclass(frozen=True)
class CollateralViewer:
    user: object
    bank: Organization | None  # None: cooperative staff or an administrator

    @property
    def is_bank(self):
        return self.bank is not None


def collateral_viewer(user):
    """Bank officers (LEND, their own bank) and the cooperative's loan desk (MANAGE_LOANS)."""
    bank = acting_bank(user)
    if bank is not None:
        return CollateralViewer(user, bank)
    if can(user, Capability.MANAGE_LOANS):
        return CollateralViewer(user, None)
    raise PermissionDeniedError(_("只有合作银行和合作社信贷人员可以查询押品。"))


def _scope(viewer):
    if viewer.is_bank:
        return Asset.objects.filter(status__in=LEDGER_STATUSES)
    return Asset.objects.filter(within_reach(viewer.user, "division__code", Capability.MANAGE_LOANS))


def lookup_parameters(query_params):
    """The one lookup key of the request, or a structured 400 naming what is wrong."""
    given = {name: (query_params.get(name) or "").strip() for name in LOOKUP_PARAMETERS}
    given = {name: value for name, value in given.items() if value}
    if len(given) != 1:
        message = _("请只提供一个查询条件：asset、certificate、holder_id 或 holder_uscc。")
        fields = {name: [message] for name in (given or LOOKUP_PARAMETERS)}
        raise DomainError(message, code="invalid", fields=fields)
    return next(iter(given.items()))


def _invalid(field, message):
    raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields={field: [message]})


def _holder_person(viewer, raw):
    try:
        number = normalize_national_id(raw)
    except IdentifierError as exc:
        _invalid("holder_id", str(exc))
    persons = Person.objects.filter(national_id_hash=crypto.lookup_hash("national_id", number))
    if viewer.is_bank:
        persons = persons.filter(grants__organization=viewer.bank, grants__revoked_at__isnull=True)
    else:
        persons = persons.filter(within_reach(viewer.user, "division__code"))
    person = persons.first()
    if person is None:
        if viewer.is_bank:
            raise NotAuthorisedByHolder(_("未找到已授权本机构查询的权利人。"))
        raise NothingFound(_("未找到该身份证号码对应的权利人。"))
    return person


def _holder_organization(raw):
    try:
        code = normalize_uscc(raw)
    except IdentifierError as exc:
        _invalid("holder_uscc", str(exc))
    organization = Organization.objects.filter(uscc=code).only("pk").first()
    if organization is None:
        raise NothingFound(_("未找到该统一社会信用代码对应的权利人。"))
    return organization


def lookup_assets(viewer, name, value):
    """Assets matching the lookup key within the viewer's scope (a queryset, not yet evaluated).
    Raises 404-style errors when a holder key names nobody the viewer may look up."""
    scope = _scope(viewer)
    if name == "asset":
        q = Q(code=value)
        if value.isdigit() and len(value) <= 18:
            q |= Q(pk=int(value))
        assets = scope.filter(q)
    elif name == "certificate":
        assets = scope.filter(
            Q(pk__in=Right.objects.filter(certificate_number=value).values("asset_id"))
            | Q(
                pk__in=Registration.objects.filter(
                    certificate_number=value, status=RegistrationStatus.REGISTERED
                ).values("asset_id")
            )
        )
    elif name == "holder_id":
        person = _holder_person(viewer, value)
        held = Right.objects.filter(holder__person=person, status=RightStatus.ACTIVE)
        return scope.filter(pk__in=held.values("asset_id"))
    else:
        organization = _holder_organization(value)
        held = Right.objects.filter(holder__organization=organization, status=RightStatus.ACTIVE)
        return scope.filter(pk__in=held.values("asset_id"))
    return assets


def require_found(name, page):
    """An asset or certificate that names nothing in scope is a 404; a holder without assets in
    scope is an empty list (the holder was found, or the holder lookup raised already)."""
    if not page and name in ("asset", "certificate"):
        raise NothingFound(_("未找到符合条件的资源资产。"))


def _bound(function):
    return Func(F("geometry"), function=function, output_field=FloatField())


# Only the columns the answer shows: persons' and organizations' ciphertexts are never even read.
HOLDER_COLUMNS = (
    "holder__kind",
    "holder__person__name",
    "holder__person__national_id_masked",
    "holder__organization__name",
    "holder__organization__uscc",
)


def collateral_queryset(viewer, assets):
    """The assets with everything the response shows, prefetched (constant number of queries)."""
    appraisals = (
        CollateralAppraisal.objects.select_related("product", "appraiser_org")
        .only(
            *("asset", "right", "number", "appraised_value", "haircut", "collateral_value", "ltv"),
            *("max_loan", "method", "appraiser_licence_no", "appraised_on", "valid_until"),
            *("product__code", "product__name", "product__bank", "appraiser_org__name"),
        )
        .order_by("-appraised_on", "-pk")
    )
    if viewer.is_bank:
        appraisals = appraisals.filter(product__bank=viewer.bank)  # a bank sees its own only
    rights = (
        Right.objects.filter(status=RightStatus.ACTIVE)
        .select_related("holder__person", "holder__organization")
        .only(
            *("asset", "holder", "kind", "share_numerator", "share_denominator", "period"),
            *("certificate_number", "status", *HOLDER_COLUMNS),
        )
        .order_by("kind", "pk")
    )
    restrictions = (
        Restriction.objects.filter(status=RightStatus.ACTIVE)
        .select_related("holder__person", "holder__organization", "finance_pledge")
        .only(
            *("asset", "right", "kind", "holder", "rank", "secured_amount", "period", "reason"),
            *("status", "created_at", *HOLDER_COLUMNS),
            *("finance_pledge__restriction", "finance_pledge__number", "finance_pledge__bank_reference"),
        )
        .order_by("kind", "rank", "created_at", "pk")
    )
    return (
        assets.select_related("resource_type", "division")
        .only(
            *("code", "name", "status", "area_m2", "attributes", "resource_type", "division"),
            *("resource_type__code", "resource_type__name", "division__code", "division__name"),
        )
        .annotate(
            bbox_xmin=_bound("ST_XMin"),
            bbox_ymin=_bound("ST_YMin"),
            bbox_xmax=_bound("ST_XMax"),
            bbox_ymax=_bound("ST_YMax"),
        )
        .prefetch_related(
            Prefetch("rights", rights, to_attr="active_rights"),
            Prefetch("restrictions", restrictions, to_attr="active_restrictions"),
            Prefetch("appraisals", appraisals, to_attr="visible_appraisals"),
        )
        .order_by("code")
    )


def valuation_history(asset_ids):
    """{asset_id: [accepted valuations, newest first]}: one grouped query for a page of assets.
    Each entry is the asset's own total in that run (the run's total covers its whole division)."""
    rows = (
        AssetResult.objects.filter(asset_id__in=asset_ids, run__accepted_at__isnull=False)
        .values(
            "asset_id",
            "run_id",
            "run__year",
            "run__accepted_at",
            "run__price_basis",
            "run__parameter_set__name",
            "run__parameter_set__version",
            "run__parameter_set__standard",
        )
        .annotate(total=Sum("value"))
        .order_by("asset_id", "-run__year", "-run__accepted_at", "-run_id")
    )
    history = {}
    for row in rows:
        history.setdefault(row["asset_id"], []).append(
            {
                "run_id": row["run_id"],
                "year": row["run__year"],
                "total": row["total"],
                "accepted_at": row["run__accepted_at"],
                "price_basis": row["run__price_basis"],
                "parameter_set": f"{row['run__parameter_set__name']} v{row['run__parameter_set__version']}",
                "standard": row["run__parameter_set__standard"],
            }
        )
    return history
