"""Investor demands (投资需求) and their matching against what the cooperative can offer: READY
packages and collected assets that are in no open package, within the demand's division.

A match scores 0–100: resource type 30, area fit 30, nearness 20, reference value against the
budget 20. Nothing offered here has a price yet, so the reference value is the latest accepted
GEP of the assets (元/年, times the intended term), and the reasons say so."""

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import AdministrativeDivision, DivisionLevel, Membership, Role
from directory.permissions import ROLE_CAPABILITIES, Capability, memberships_with
from directory.selectors import reach_prefixes, within_reach
from directory.services import notify
from resources.models import Asset, AssetStatus, ResourceType
from tmcs.audit import audit_context
from tmcs.errors import DomainError, PermissionDeniedError
from valuation.selectors import latest_asset_valuation

from .._money import parse_money
from ..models import (
    OPEN_LISTING_STATUSES,
    Demand,
    DemandMatch,
    DemandStatus,
    Listing,
    ListingStatus,
    PackageItem,
    PackageStatus,
    ResourcePackage,
)
from .common import check_transition, cooperative_for, investor_of

log = logging.getLogger(__name__)

DEMAND_TRANSITIONS = {DemandStatus.OPEN: {DemandStatus.CLOSED}, DemandStatus.CLOSED: set()}
MIN_SCORE = Decimal(40)
MAX_MATCHES = 10
MAX_AREA = Decimal("99999999999999.99")
PLACE_POINTS = {
    DivisionLevel.VILLAGE: (20, gettext_lazy("位于意向村内。")),
    DivisionLevel.TOWNSHIP: (15, gettext_lazy("位于意向乡镇内。")),
    DivisionLevel.COUNTY: (10, gettext_lazy("位于意向县（市、区）内。")),
}
TRADING_ROLES = [
    role
    for role, capabilities in ROLE_CAPABILITIES.items()
    if Capability.MANAGE_TRADING in capabilities and role != Role.INVESTOR
]


# --- writes -----------------------------------------------------------------------------------


def _decimal(value, name, errors, *, label):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0 or number > MAX_AREA:
        errors[name] = [_("%(label)s须为不小于0的数。") % {"label": label}]
        return None
    if number != number.quantize(Decimal("0.01")):
        errors[name] = [_("%(label)s最多保留两位小数。") % {"label": label}]
        return None
    return number


def _clean(data):
    errors, cleaned = {}, {}
    resource_type = data.get("resource_type")
    if resource_type is not None and not (
        isinstance(resource_type, ResourceType) and resource_type.is_active
    ):
        errors["resource_type"] = [_("请选择启用中的资源类型。")]
    cleaned["resource_type"] = resource_type
    division = data.get("division")
    if not isinstance(division, AdministrativeDivision):
        errors["division"] = [_("请选择意向区域。")]
    else:
        try:
            cooperative_for(division)
        except DomainError as exc:
            errors["division"] = [str(exc.detail)]
    cleaned["division"] = division
    cleaned["min_area_m2"] = _decimal(data.get("min_area_m2"), "min_area_m2", errors, label=_("最小面积"))
    cleaned["max_area_m2"] = _decimal(data.get("max_area_m2"), "max_area_m2", errors, label=_("最大面积"))
    low, high = cleaned["min_area_m2"], cleaned["max_area_m2"]
    if low is not None and high is not None and low > high:
        errors["max_area_m2"] = [_("最大面积不能小于最小面积。")]
    cleaned["budget"] = None
    if data.get("budget") not in (None, ""):
        try:
            cleaned["budget"] = parse_money(data["budget"], "budget")
        except DomainError as exc:
            errors.update(exc.fields)
    term = data.get("term_years")
    cleaned["term_years"] = None
    if term not in (None, ""):
        try:
            cleaned["term_years"] = int(str(term).strip())
        except ValueError:
            errors["term_years"] = [_("意向年限须为整数。")]
        else:
            if not 1 <= cleaned["term_years"] <= 30:
                errors["term_years"] = [_("意向年限须在 1 至 30 年之间。")]
    use = (data.get("intended_use") or "").strip()
    if not use:
        errors["intended_use"] = [_("请填写用途。")]
    elif len(use) > 300:
        errors["intended_use"] = [_("不能超过 %(n)s 个字。") % {"n": 300}]
    cleaned["intended_use"] = use
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    return cleaned


@transaction.atomic
def post_demand(
    *,
    actor,
    division,
    intended_use,
    resource_type=None,
    min_area_m2=None,
    max_area_m2=None,
    budget=None,
    term_years=None,
):
    """An investor states what it looks for; matching runs once the demand is committed."""
    investor = investor_of(actor)
    cleaned = _clean(
        {
            "resource_type": resource_type,
            "division": division,
            "min_area_m2": min_area_m2,
            "max_area_m2": max_area_m2,
            "budget": budget,
            "term_years": term_years,
            "intended_use": intended_use,
        }
    )
    with audit_context(user=actor, reason="post demand"):
        demand = Demand.objects.create(investor=investor, posted_by=actor, **cleaned)
    transaction.on_commit(lambda: _match_after_post(demand.pk))
    return demand


def _match_after_post(pk):
    # The demand is already saved; a failure here is retried by the hourly run.
    try:
        match_demand(Demand(pk=pk))
    except Exception:
        log.exception("matching demand %s failed; the hourly run will retry", pk)


@transaction.atomic
def close_demand(*, actor, demand):
    demand = Demand.objects.select_for_update(of=("self",)).get(pk=demand.pk)
    if investor_of(actor).pk != demand.investor_id:
        raise PermissionDeniedError(_("只能关闭本单位发布的需求。"))
    check_transition(
        DEMAND_TRANSITIONS, DemandStatus(demand.status), DemandStatus.CLOSED, lambda s: DemandStatus(s).label
    )
    with audit_context(user=actor, reason="close demand"):
        demand.status = DemandStatus.CLOSED
        demand.save(update_fields=["status"])
    return demand


# --- matching ---------------------------------------------------------------------------------


@dataclass
class Candidate:
    division: AdministrativeDivision
    assets: list
    package: ResourcePackage | None = None
    asset: Asset | None = None
    score: Decimal = Decimal(0)
    reasons: list = field(default_factory=list)

    @property
    def key(self):
        return (self.package.pk if self.package else None, self.asset.pk if self.asset else None)

    @property
    def label(self):
        return str(self.package or self.asset)


def _candidates(demand):
    prefix = demand.division.prefix
    open_items = PackageItem.objects.filter(is_open=True).select_related("asset__resource_type")
    packages = ResourcePackage.objects.filter(
        status=PackageStatus.READY, division__code__startswith=prefix
    ).select_related("division")
    assets = (
        Asset.objects.filter(status=AssetStatus.COLLECTED, division__code__startswith=prefix)
        .exclude(pk__in=PackageItem.objects.filter(is_open=True).values("asset_id"))
        .select_related("resource_type", "division")
        .defer("geometry")
    )
    if demand.resource_type_id:
        packages = packages.filter(
            pk__in=PackageItem.objects.filter(
                is_open=True, asset__resource_type_id=demand.resource_type_id
            ).values("package_id")
        )
        assets = assets.filter(resource_type_id=demand.resource_type_id)
    for package in packages.prefetch_related(Prefetch("items", queryset=open_items, to_attr="open_items")):
        items = [item.asset for item in package.open_items]
        if items:
            yield Candidate(division=package.division, assets=items, package=package)
    for asset in assets.order_by("pk"):
        yield Candidate(division=asset.division, assets=[asset], asset=asset)


def _score_type(demand, candidate):
    if not demand.resource_type_id:
        return 15, _("需求未限定资源类型。")
    same = sum(1 for a in candidate.assets if a.resource_type_id == demand.resource_type_id)
    if same == len(candidate.assets):
        return 30, _("资源类型与需求一致（%(type)s）。") % {"type": demand.resource_type.name}
    return 15, _("资源包中 %(n)s/%(total)s 项为所需类型（%(type)s）。") % {
        "n": same,
        "total": len(candidate.assets),
        "type": demand.resource_type.name,
    }


def _score_area(demand, candidate):
    low, high = demand.min_area_m2, demand.max_area_m2
    if low is None and high is None:
        return Decimal(15), _("需求未限定面积。")
    areas = [a.area_m2 for a in candidate.assets]
    if any(area is None for area in areas):
        return Decimal(10), _("面积未知，需现场核实。")
    area = sum(areas, Decimal(0))
    if (low is None or area >= low) and (high is None or area <= high):
        return Decimal(30), _("面积 %(area)s m²，在需求范围内。") % {"area": area}
    if low is not None and area < low:
        gap = (low - area) / low
        side = _("小于最小面积 %(bound)s m²") % {"bound": low}
    else:
        gap = (area - high) / high if high else Decimal(1)
        side = _("大于最大面积 %(bound)s m²") % {"bound": high}
    points = (Decimal(30) * max(Decimal(0), 1 - gap)).quantize(Decimal("0.01"))
    return points, _("面积 %(area)s m²，%(side)s，相差 %(pct)s%%。") % {
        "area": area,
        "side": side,
        "pct": (gap * 100).quantize(Decimal("1")),
    }


def _score_place(demand):
    points, reason = PLACE_POINTS.get(DivisionLevel(demand.division.level), (5, _("位于意向区域内。")))
    return points, str(reason)


def _score_value(demand, candidate):
    if demand.budget is None:
        return Decimal(10), _("需求未填写预算。")
    valuations = [latest_asset_valuation(asset) for asset in candidate.assets]
    if any(v is None for v in valuations):
        return Decimal(5), _("暂无挂牌价，且部分资产尚无 GEP 核算值，无法与预算比较。")
    years = demand.term_years or 1
    reference = (sum((v.total for v in valuations), Decimal(0)) * years).quantize(Decimal("0.01"))
    detail = _("暂无挂牌价，以最新 GEP 核算值作参考：%(gep)s 元/年 × %(years)s 年 = %(ref)s 元") % {
        "gep": sum((v.total for v in valuations), Decimal(0)).quantize(Decimal("0.01")),
        "years": years,
        "ref": reference,
    }
    if reference <= demand.budget:
        return Decimal(20), _("%(detail)s，在预算 %(budget)s 元以内。") % {
            "detail": detail,
            "budget": demand.budget,
        }
    points = (Decimal(20) * demand.budget / reference).quantize(Decimal("0.01"))
    return points, _("%(detail)s，超出预算 %(budget)s 元。") % {"detail": detail, "budget": demand.budget}


def score(demand, candidate):
    type_points, type_reason = _score_type(demand, candidate)
    area_points, area_reason = _score_area(demand, candidate)
    place_points, place_reason = _score_place(demand)
    partial = Decimal(type_points) + area_points + place_points
    if partial + 20 < MIN_SCORE:  # cannot make the cut: spare the valuation lookups
        candidate.score = partial
        return candidate
    value_points, value_reason = _score_value(demand, candidate)
    candidate.score = min(Decimal(100), partial + value_points).quantize(Decimal("0.01"))
    candidate.reasons = [str(type_reason), str(area_reason), place_reason, str(value_reason)]
    return candidate


@transaction.atomic
def match_demand(demand):
    """Replace the demand's matches with the best current ones; returns how many are new. Staff
    who can act on a new match and the investor's users are told; kept matches are not re-sent."""
    demand = (
        Demand.objects.select_for_update(of=("self",))
        .select_related("division", "resource_type", "investor")
        .get(pk=demand.pk)
    )
    if demand.status != DemandStatus.OPEN:
        return 0
    scored = [score(demand, c) for c in _candidates(demand)]
    best = sorted(
        (c for c in scored if c.score >= MIN_SCORE), key=lambda c: (-c.score, c.package is None, c.key)
    )
    best = best[:MAX_MATCHES]
    previous = {(m.package_id, m.asset_id): m for m in demand.matches.all()}
    kept, new = [], []
    for candidate in best:
        row = previous.pop(candidate.key, None)
        if row is None:
            row = DemandMatch(demand=demand, package=candidate.package, asset=candidate.asset)
            new.append((row, candidate))
        else:
            kept.append(row)
        row.score, row.reasons = candidate.score, candidate.reasons
    with audit_context(reason="match demand"):
        DemandMatch.objects.filter(pk__in=[m.pk for m in previous.values()]).delete()
        DemandMatch.objects.bulk_update(kept, ["score", "reasons"])
        DemandMatch.objects.bulk_create([row for row, _c in new])
    if new:
        _notify_new_matches(demand, [c for _row, c in new])
    return len(new)


def match_open_demands():
    """The hourly run: every open demand in its own transaction; returns the number of new matches."""
    ids = list(Demand.objects.filter(status=DemandStatus.OPEN).order_by("pk").values_list("pk", flat=True))
    return sum(match_demand(Demand(pk=pk)) for pk in ids)


def _notify_new_matches(demand, candidates):
    link = page_url("transactions:demand-detail", demand.pk)
    staff = list(
        Membership.objects.filter(
            is_active=True, organization__is_active=True, user__is_active=True, role__in=TRADING_ROLES
        ).select_related("user", "organization__division")
    )
    for candidate in candidates:
        recipients = {m.user for m in staff if m.organization.division.contains(candidate.division)}
        if recipients:
            notify(
                recipients=sorted(recipients, key=lambda u: u.pk),
                title=_("投资需求有新的匹配资源"),
                body=_("%(investor)s 的需求“%(use)s”匹配到 %(target)s（匹配度 %(score)s）。")
                % {
                    "investor": demand.investor,
                    "use": demand.intended_use,
                    "target": candidate.label,
                    "score": candidate.score,
                },
                link=link,
            )
    investors = [
        m.user
        for m in demand.investor.memberships.filter(
            is_active=True, role=Role.INVESTOR, user__is_active=True
        ).select_related("user")
    ]
    if investors:
        notify(
            recipients=investors,
            title=_("您的投资需求有新的匹配"),
            body=_("需求“%(use)s”新增 %(n)s 项匹配资源，合作社将与您联系。")
            % {"use": demand.intended_use, "n": len(candidates)},
            link=link,
        )


# --- reads ------------------------------------------------------------------------------------


def demands_for(user):
    """Investors: their organization's demands. Trading staff: demands whose area lies in their
    reach, or contains it (a city-wide demand concerns every county's cooperative)."""
    own = [m.organization_id for m in memberships_with(user, Capability.TRADE)]
    q = Q(investor_id__in=own) if own else Q(pk__in=[])
    prefixes = reach_prefixes(user, Capability.MANAGE_TRADING)
    q |= within_reach(user, "division__code", Capability.MANAGE_TRADING)
    ancestors = {p[:n].ljust(12, "0") for p in prefixes for n in (2, 4, 6, 9) if n < len(p)}
    if ancestors:
        q |= Q(division__code__in=ancestors)
    return Demand.objects.filter(q).select_related("investor", "division", "resource_type", "posted_by")


def matches_of(demand):
    return demand.matches.select_related(
        "package__division", "asset__division", "asset__resource_type"
    ).order_by("-score", "pk")


def public_links(matches):
    """{match pk: public listing URL} for matches whose package or asset is on an open listing."""
    listings = Listing.objects.filter(
        Q(package_id__in=[m.package_id for m in matches if m.package_id])
        | Q(asset_id__in=[m.asset_id for m in matches if m.asset_id]),
        status__in=[s for s in OPEN_LISTING_STATUSES if s != ListingStatus.DRAFT],
    ).only("code", "package_id", "asset_id")
    by_target = {}
    for listing in listings:
        by_target[("p", listing.package_id) if listing.package_id else ("a", listing.asset_id)] = listing
    links = {}
    for m in matches:
        listing = by_target.get(("p", m.package_id) if m.package_id else ("a", m.asset_id))
        url = listing and page_url("public-listing", listing.code)
        if url:
            links[m.pk] = url
    return links


def page_url(name, *args):
    # Pages of areas still being built may not be wired yet; their links simply do not show.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
