"""The leaders' dashboard (领导驾驶舱): one division's overview for its city or county leaders —
GEP by year and category, resources by status (with a map), trading volume, the loan book and its
delinquency, key projects, the GEP balance (占补平衡) and the cooperatives' red lines — and its
child divisions compared side by side (a city's counties, a county's townships).

Every block is aggregated in SQL, grouped by the child division's code prefix in the same query,
so the number of queries does not grow with the number of assets, contracts, loans or projects.
Money stays Decimal (元, rounded to the cent where it is shown); GEP comes from the accepted
valuation runs' Rollup rows (the figures the run reports print), never recomputed here.
"""

import datetime
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON, GeomOutputGeoFunc, PointOnSurface
from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, Sum, Value, When
from django.db.models.functions import ExtractMonth, Left
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import LEVEL_ORDER, LEVEL_PREFIX_LENGTH, AdministrativeDivision, DivisionLevel
from directory.permissions import Capability, can
from directory.selectors import reach_prefixes, within_reach
from finance.models import DelinquencyBucket, Loan, LoanStatus
from finance.selectors_loans import with_delinquency
from finance.services.loans import BUCKET_ORDER, OPEN_STATUSES
from resources.models import SQ_M_PER_MU, Asset, AssetStatus, ResourceFamily
from tmcs.errors import DomainError, PermissionDeniedError
from transactions.models import CollectionContract, Listing, ListingStatus, TradeContract
from valuation.indicators import Category
from valuation.models import AccountingRun, PriceBasis, Rollup

from .models import (
    GepBalance,
    GepBalanceRule,
    KeyProject,
    ProjectCategory,
    ProjectStatus,
    RedLineReading,
    RedLineStatus,
)
from .services.gep_balance import balance_status, rule_for, status_of

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
ZERO = Decimal("0.00")
CATEGORIES = [c.value for c in Category]
FIRST_YEAR = 2000  # GEP accounting in China starts well after this; earlier years are typing errors
GEP_YEARS = 10  # years of GEP history shown
MAP_FEATURE_CAP = 2000  # assets drawn on the map at most (the list and the tiles show all)
MAP_POLYGON_LIMIT = 500  # above this many, assets are drawn as points (one per asset) not shapes
MAP_SIMPLIFY_DEGREES = 0.00002  # ≈ 2 m at Lishui's latitude: invisible at dashboard zoom
ADMITTED_LIST_CAP = 200
# Listings open to investors right now (公示中 / 竞价中); drafts and sold ones are not on offer.
OPEN_NOW_LISTING_STATUSES = (ListingStatus.IN_NOTICE, ListingStatus.BIDDING)
SELF = "self"  # the child key of records that sit on the division itself, not below it


class SimplifyPreserveTopology(GeomOutputGeoFunc):
    function = "ST_SimplifyPreserveTopology"


# --- scope and input -------------------------------------------------------------------------


def may_view_dashboard(user):
    return can(user, Capability.VIEW_OVERSIGHT)


def require_dashboard(user):
    if not may_view_dashboard(user):
        raise PermissionDeniedError(_("您没有查看领导驾驶舱的权限。"))


def dashboard_scope(user):
    """Divisions within the user's oversight reach (a queryset without boundaries)."""
    return (
        AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.VIEW_OVERSIGHT))
        .defer("boundary")
        .order_by("code")
    )


def default_division(user):
    """The broadest division the user oversees (a city admin's city, a county's staff their
    county); None when the user oversees nothing."""
    prefixes = reach_prefixes(user, Capability.VIEW_OVERSIGHT)
    if not prefixes:
        return None
    if "" in prefixes:  # superuser: the first city (or province) on the platform
        return (
            AdministrativeDivision.objects.filter(level__in=[DivisionLevel.CITY, DivisionLevel.PROVINCE])
            .defer("boundary")
            .order_by("level", "code")  # "city" sorts before "province"
            .first()
        )
    return AdministrativeDivision.objects.defer("boundary").filter(code=prefixes[0].ljust(12, "0")).first()


def picker_divisions(user, division):
    """What the division picker offers: the city and county levels in reach, plus the current
    division's own children (so that a county's townships can be opened)."""
    scope = dashboard_scope(user)
    return list(
        scope.filter(
            Q(level__in=[DivisionLevel.PROVINCE, DivisionLevel.CITY, DivisionLevel.COUNTY])
            | Q(pk=division.pk)
            | Q(parent=division)
        ).only("code", "name", "level")
    )


def invalid(field, message):
    return DomainError(_("查询条件有误。"), code="invalid", fields={field: [message]})


def parse_year(value, *, today=None):
    """The year asked for (None/"" → this year); a DomainError naming the field otherwise."""
    today = today or timezone.localdate()
    if value in (None, ""):
        return today.year
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) != 4:
        raise invalid("year", _("年份须为四位数字。"))
    year = int(text)
    if not FIRST_YEAR <= year <= today.year:
        raise invalid(
            "year", _("年份须在 %(first)s–%(last)s 之间。") % {"first": FIRST_YEAR, "last": today.year}
        )
    return year


def _division_code(value):
    """The 12-digit code asked for, "" for none; a DomainError when malformed."""
    text = "" if value is None else str(value).strip()
    if text and (not (text.isascii() and text.isdigit()) or len(text) != 12):
        raise invalid("division", _("区划代码须为 12 位数字。"))
    return text


def parse_query(user, division=None, year=None):
    """(division, year) from the page's or the API's query: 403 without the capability, a
    DomainError naming every malformed field (400), 404 for a division that does not exist or
    lies outside the user's reach. No division → the broadest one the user oversees."""
    require_dashboard(user)
    errors, code = {}, ""
    try:
        year = parse_year(year)
    except DomainError as exc:
        errors.update(exc.fields)
    try:
        code = _division_code(division)
    except DomainError as exc:
        errors.update(exc.fields)
    if errors:
        raise DomainError(_("查询条件有误。"), code="invalid", fields=errors)
    found = dashboard_scope(user).filter(code=code).first() if code else default_division(user)
    if found is None:
        raise Http404(_("区划不存在或不在您的查看范围内。"))
    return found, year


# --- helpers ---------------------------------------------------------------------------------


def _cents(value):
    return (value or ZERO).quantize(CENT, ROUND_HALF_UP)


def _mu(area_m2):
    return (Decimal(area_m2 or 0) / SQ_M_PER_MU).quantize(CENT, ROUND_HALF_UP)


def _ratio(part, whole):
    return (part / whole).quantize(RATIO, ROUND_HALF_UP) if whole else None


@dataclass
class _Frame:
    """The division, its child level and the code-prefix length that groups records by child."""

    division: AdministrativeDivision
    children: list
    child_length: int

    @property
    def prefix(self):
        return self.division.prefix

    def child_key(self, code_prefix):
        """Child code of a grouped prefix, or SELF for records on the division itself."""
        code = (code_prefix or "").ljust(12, "0")
        return SELF if code == self.division.code else code

    def field(self, path):
        """Left(<path>, n): the child a record belongs to, for GROUP BY."""
        return Left(path, self.child_length)


def _frame(division):
    level_index = LEVEL_ORDER.index(division.level)
    child_level = LEVEL_ORDER[level_index + 1] if level_index + 1 < len(LEVEL_ORDER) else None
    children = list(
        AdministrativeDivision.objects.filter(parent=division).only("code", "name", "level").order_by("code")
    )
    length = LEVEL_PREFIX_LENGTH[child_level] if child_level else 12
    return _Frame(division=division, children=children, child_length=length)


# --- GEP ---------------------------------------------------------------------------------------


def _gep(frame, year):
    """GEP per year and category for the division, and per child division for one year.

    A year's figure for a place is the Rollup of the latest accepted current-price run of that
    year whose scope covers the place (a run of the place itself or of a division above it; runs
    of hand-picked assets do not cover a place). When no run covers the division, its figure is
    the sum of its children's (e.g. a city whose counties account separately)."""
    division = frame.division
    ancestor_codes = {division.code[:n].ljust(12, "0") for n in LEVEL_PREFIX_LENGTH.values()}
    picked_assets = AccountingRun.assets.through.objects.filter(accountingrun_id=OuterRef("pk"))
    runs = list(
        AccountingRun.objects.filter(
            Q(division__code__in=ancestor_codes) | Q(division__code__startswith=frame.prefix),
            accepted_at__isnull=False,
            price_basis=PriceBasis.CURRENT,
            year__lte=year,
        )
        .filter(~Exists(picked_assets))
        .values("pk", "year", "accepted_at", "division__code", "division__level", "division__name")
    )
    targets = {division.pk: division, **{c.pk: c for c in frame.children}}
    figures = {}  # (run pk, division pk) → {category: Decimal}
    for row in (
        Rollup.objects.filter(run_id__in=[r["pk"] for r in runs], division_id__in=list(targets))
        .values("run_id", "division_id", "category")
        .annotate(value=Sum("value"))
        .order_by()
    ):
        figures.setdefault((row["run_id"], row["division_id"]), {})[row["category"]] = row["value"]

    def figure(target, for_year):
        candidates = [
            r
            for r in runs
            if r["year"] == for_year
            and target.code.startswith(r["division__code"][: LEVEL_PREFIX_LENGTH[r["division__level"]]])
            and (r["pk"], target.pk) in figures
        ]
        if not candidates:
            return None
        run = max(candidates, key=lambda r: (r["accepted_at"], r["pk"]))
        values = figures[(run["pk"], target.pk)]
        row = {c: _cents(values.get(c)) for c in CATEGORIES}
        row["total"] = sum(row.values(), ZERO)
        row.update(run=run["pk"], run_division=run["division__name"], source="run")
        return row

    years = sorted({r["year"] for r in runs})[-GEP_YEARS:]
    by_year, child_figures = [], {}
    for each in years:
        for child in frame.children:
            found = figure(child, each)
            if found:
                child_figures[(child.pk, each)] = found
        own = figure(division, each)
        if own is None:
            parts = [child_figures[(c.pk, each)] for c in frame.children if (c.pk, each) in child_figures]
            if not parts:
                continue
            own = {c: sum((p[c] for p in parts), ZERO) for c in CATEGORIES}
            own["total"] = sum((own[c] for c in CATEGORIES), ZERO)
            own.update(run=None, run_division="", source="children")
        by_year.append({"year": each, **own})
    children_year = max((y for (_pk, y) in child_figures), default=None)
    children = []
    if children_year is not None:
        for child in frame.children:
            found = child_figures.get((child.pk, children_year))
            empty = dict.fromkeys(CATEGORIES, ZERO) | {
                "total": ZERO,
                "run": None,
                "run_division": "",
                "source": "",
            }
            children.append(
                {"code": child.code, "name": child.name, "valued": found is not None, **(found or empty)}
            )
        children.sort(key=lambda c: (-c["total"], c["code"]))
    latest = by_year[-1] if by_year else None
    return {
        "categories": [{"key": c.value, "label": str(c.label)} for c in Category],
        "years": by_year,
        "latest_year": latest["year"] if latest else None,
        "latest_total": latest["total"] if latest else None,
        "children_year": children_year,
        "children": children,
    }


# --- resources and the map ---------------------------------------------------------------------


def _resources(frame):
    rows = (
        Asset.objects.filter(division__code__startswith=frame.prefix)
        .annotate(child=frame.field("division__code"))
        .values("child", "status", "resource_type__family")
        .annotate(n=Count("pk"), area=Sum("area_m2"), mapped=Count("pk", filter=Q(geometry__isnull=False)))
        .order_by()
    )
    by_status = {s.value: {"count": 0, "area": ZERO} for s in AssetStatus}
    by_family, by_child = {}, {}
    mapped = 0
    for row in rows:
        area = row["area"] or ZERO
        status = by_status[row["status"]]
        status["count"] += row["n"]
        status["area"] += area
        if row["status"] == AssetStatus.RETIRED:
            continue  # a retired asset no longer counts as a resource of the place
        mapped += row["mapped"]
        family = by_family.setdefault(row["resource_type__family"], {"count": 0, "area": ZERO})
        family["count"] += row["n"]
        family["area"] += area
        child = by_child.setdefault(frame.child_key(row["child"]), {"count": 0, "area": ZERO})
        child["count"] += row["n"]
        child["area"] += area
    families = dict(ResourceFamily.choices)

    def line(key, label, totals):
        return {
            "key": key,
            "label": str(label),
            "count": totals["count"],
            "area_m2": _cents(totals["area"]),
            "area_mu": _mu(totals["area"]),
        }

    active = [v for k, v in by_status.items() if k != AssetStatus.RETIRED]
    total = {"count": sum(v["count"] for v in active), "area": sum((v["area"] for v in active), ZERO)}
    return {
        "by_status": [line(s.value, s.label, by_status[s.value]) for s in AssetStatus],
        "by_family": [
            line(key, families.get(key, key), totals)
            for key, totals in sorted(by_family.items(), key=lambda kv: (-kv[1]["count"], kv[0]))
        ],
        "total": line("total", _("在册资源（不含已注销）"), total),
        "map": _map(frame, mapped),
    }, by_child


def _map(frame, mapped):
    """GeoJSON of the division's assets with a geometry (retired ones left out), coloured by
    status in the page. Up to MAP_POLYGON_LIMIT they are simplified shapes, beyond that one point
    on each asset's surface; never more than MAP_FEATURE_CAP features (the note says so)."""
    as_points = mapped > MAP_POLYGON_LIMIT
    shape = (
        PointOnSurface("geometry")
        if as_points
        else SimplifyPreserveTopology(
            "geometry", Value(MAP_SIMPLIFY_DEGREES), output_field=GeometryField(srid=4490)
        )
    )
    labels = dict(AssetStatus.choices)
    detail = reverse("resources:asset-detail", args=[0]).replace("/0/", "/{id}/")
    rows = (
        Asset.objects.filter(division__code__startswith=frame.prefix, geometry__isnull=False)
        .exclude(status=AssetStatus.RETIRED)
        .annotate(shape=AsGeoJSON(shape, precision=6))
        .order_by("code")
        .values_list("pk", "code", "name", "status", "resource_type__name", "shape")[:MAP_FEATURE_CAP]
    )
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(geometry),
            "properties": {
                "id": pk,
                "code": code,
                "name": name,
                "status": status,
                "status_label": str(labels.get(status, status)),
                "type": type_name,
                "url": detail.replace("{id}", str(pk)),
            },
        }
        for pk, code, name, status, type_name, geometry in rows
        if geometry
    ]
    truncated = mapped > len(features)
    if truncated:
        note = _("资源较多：地图仅显示按编号排序的前 %(shown)s 个（共 %(total)s 个），以点表示。") % {
            "shown": len(features),
            "total": mapped,
        }
    elif as_points:
        note = _("资源较多：地图以点表示每个资源的位置。")
    else:
        note = ""
    return {
        "type": "FeatureCollection",
        "features": features,
        "mode": "points" if as_points else "shapes",
        "total": mapped,
        "shown": len(features),
        "truncated": truncated,
        "note": note,
    }


# --- trading -----------------------------------------------------------------------------------


def _trading(frame, year):
    """Contracts signed in `year` per month (collection: 年度租金/保底金额; trade: 合同总价) and
    the listings open to investors now."""
    months = {
        m: {"collection_count": 0, "collection_amount": ZERO, "trade_count": 0, "trade_amount": ZERO}
        for m in range(1, 13)
    }
    by_child = {}
    for model, amount, kind in (
        (CollectionContract, "annual_amount", "collection"),
        (TradeContract, "price", "trade"),
    ):
        rows = (
            model.objects.filter(division__code__startswith=frame.prefix, signed_at__year=year)
            .annotate(month=ExtractMonth("signed_at"), child=frame.field("division__code"))
            .values("month", "child")
            .annotate(n=Count("pk"), total=Sum(amount))
            .order_by()
        )
        for row in rows:
            month = months[row["month"]]
            month[f"{kind}_count"] += row["n"]
            month[f"{kind}_amount"] += row["total"]
            child = by_child.setdefault(frame.child_key(row["child"]), _empty_trading())
            child[f"{kind}_count"] += row["n"]
            child[f"{kind}_amount"] += row["total"]
    open_rows = (
        Listing.objects.filter(division__code__startswith=frame.prefix, status__in=OPEN_NOW_LISTING_STATUSES)
        .annotate(child=frame.field("division__code"))
        .values("child")
        .annotate(n=Count("pk"), reserve=Sum("reserve_price"))
        .order_by()
    )
    open_count, open_reserve = 0, ZERO
    for row in open_rows:
        open_count += row["n"]
        open_reserve += row["reserve"]
        child = by_child.setdefault(frame.child_key(row["child"]), _empty_trading())
        child["open_listings"] += row["n"]
    month_rows = [{"month": m, **values} for m, values in months.items()]
    totals = {
        key: sum((m[key] for m in month_rows), 0 if key.endswith("count") else ZERO)
        for key in ("collection_count", "collection_amount", "trade_count", "trade_amount")
    }
    return {
        "year": year,
        "months": month_rows,
        "totals": totals,
        "open_listings": {"count": open_count, "reserve_total": open_reserve},
    }, by_child


def _empty_trading():
    return {
        "collection_count": 0,
        "collection_amount": ZERO,
        "trade_count": 0,
        "trade_amount": ZERO,
        "open_listings": 0,
    }


# --- loans -------------------------------------------------------------------------------------


def _loans(frame, as_of):
    """The open loan book by delinquency bucket, from finance's SQL position (the same figures
    as finance.services.loans.position for the day, without reading any schedule in Python).
    Non-performing = 次级 or worse by days past due (TMCS_CLASSIFICATION_DPD), or defaulted."""
    substandard_from = settings.TMCS_CLASSIFICATION_DPD[1]
    rows = (
        with_delinquency(
            Loan.objects.filter(division__code__startswith=frame.prefix, status__in=OPEN_STATUSES), as_of
        )
        .annotate(
            child=frame.field("division__code"),
            non_performing=Case(
                When(
                    Q(days_past_due__gte=substandard_from) | Q(status=LoanStatus.DEFAULTED), then=Value(True)
                ),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .order_by()
        .values("bucket", "non_performing", "child")
        .annotate(n=Count("pk"), balance=Sum("outstanding"), overdue=Sum("overdue_principal"))
    )
    buckets = {b: {"count": 0, "outstanding": ZERO, "overdue_principal": ZERO} for b in BUCKET_ORDER}
    by_child = {}
    npl = ZERO
    for row in rows:
        bucket = buckets[row["bucket"]]
        bucket["count"] += row["n"]
        bucket["outstanding"] += row["balance"] or ZERO
        bucket["overdue_principal"] += row["overdue"] or ZERO
        child = by_child.setdefault(
            frame.child_key(row["child"]), {"loans": 0, "outstanding": ZERO, "non_performing": ZERO}
        )
        child["loans"] += row["n"]
        child["outstanding"] += row["balance"] or ZERO
        if row["non_performing"]:
            npl += row["balance"] or ZERO
            child["non_performing"] += row["balance"] or ZERO
    outstanding = sum((b["outstanding"] for b in buckets.values()), ZERO)
    overdue_loans = sum(b["count"] for k, b in buckets.items() if k != DelinquencyBucket.CURRENT)
    return {
        "as_of": as_of,
        "count": sum(b["count"] for b in buckets.values()),
        "outstanding_principal": outstanding,
        "overdue_loans": overdue_loans,
        "non_performing_principal": npl,
        "non_performing_ratio": _ratio(npl, outstanding),
        "buckets": [
            {"bucket": key, "label": str(DelinquencyBucket(key).label), **values}
            for key, values in buckets.items()
        ],
    }, by_child


# --- key projects, GEP balance, red lines ------------------------------------------------------


def _projects(frame):
    rows = (
        KeyProject.objects.filter(division__code__startswith=frame.prefix)
        .annotate(child=frame.field("division__code"))
        .values("status", "category", "child")
        .annotate(n=Count("pk"), investment=Sum("total_investment"), social=Sum("social_capital"))
        .order_by()
    )
    by_status = {s.value: 0 for s in ProjectStatus}
    by_category = {c.value: {"count": 0, "admitted": 0} for c in ProjectCategory}
    totals = {"count": 0, "total_investment": ZERO, "social_capital": ZERO}
    by_child = {}
    for row in rows:
        by_status[row["status"]] += row["n"]
        by_category[row["category"]]["count"] += row["n"]
        if row["status"] != ProjectStatus.ADMITTED:
            continue
        by_category[row["category"]]["admitted"] += row["n"]
        totals["count"] += row["n"]
        totals["total_investment"] += row["investment"]
        totals["social_capital"] += row["social"]
        child = by_child.setdefault(frame.child_key(row["child"]), {"admitted": 0, "investment": ZERO})
        child["admitted"] += row["n"]
        child["investment"] += row["investment"]
    admitted = [
        {
            "id": p.pk,
            "number": p.number,
            "name": p.name,
            "category": p.category,
            "category_label": p.get_category_display(),
            "owner": p.owner.name,
            "division": p.division.name,
            "total_investment": p.total_investment,
            "social_capital": p.social_capital,
            "expected_gep_gain": p.expected_gep_gain,
            "admitted_on": p.admitted_on,
        }
        for p in KeyProject.objects.filter(
            division__code__startswith=frame.prefix, status=ProjectStatus.ADMITTED
        )
        .select_related("owner", "division")
        .defer("division__boundary", "description")
        .order_by("-admitted_on", "number")[:ADMITTED_LIST_CAP]
    ]
    categories = dict(ProjectCategory.choices)
    return {
        "by_status": [
            {"status": s.value, "label": str(s.label), "count": by_status[s.value]} for s in ProjectStatus
        ],
        "by_category": [
            {"category": key, "label": str(categories[key]), **values}
            for key, values in by_category.items()
            if values["count"]
        ],
        "admitted_totals": totals,
        "admitted": admitted,
        "admitted_truncated": totals["count"] > len(admitted),
    }, by_child


def _balance_line(division, balance, warning):
    return {
        "code": division.code,
        "name": division.name,
        "balance": balance,
        "warning": warning,
        "status": status_of(balance, warning),
    }


def _gep_balance(frame, today):
    """The balance of the division's balancing division (the nearest one at or above it with a
    rule) and of every balancing division below it."""
    try:
        rule = rule_for(frame.division, today)
    except DomainError:
        rule = None
    main = None
    if rule:
        status = balance_status(rule.division)
        main = _balance_line(rule.division, status["balance"], status["warning"])
    rules = (
        GepBalanceRule.objects.filter(division__code__startswith=frame.prefix, effective_from__lte=today)
        .exclude(division_id=rule.division_id if rule else None)
        .select_related("division")
        .defer("division__boundary")
        .order_by("division_id", "-effective_from")
        .distinct("division_id")
    )
    rules = list(rules)
    balances = dict(
        GepBalance.objects.filter(division_id__in=[r.division_id for r in rules]).values_list(
            "division_id", "balance"
        )
    )
    below = [
        _balance_line(r.division, balances.get(r.division_id, ZERO), r.warning_balance)
        for r in sorted(rules, key=lambda r: r.division.code)
    ]
    return {"main": main, "below": below}


def _red_lines(frame):
    """The latest reading of each red line of each cooperative in the division (may be none)."""
    readings = list(
        RedLineReading.objects.filter(cooperative__division__code__startswith=frame.prefix)
        .select_related("cooperative")
        .defer("details")
        .order_by("cooperative_id", "key", "-as_of")
        .distinct("cooperative_id", "key")
    )
    counts = {s.value: 0 for s in RedLineStatus}
    for reading in readings:
        counts[reading.status] += 1
    severity = {
        RedLineStatus.BREACH: 0,
        RedLineStatus.WARNING: 1,
        RedLineStatus.NO_DATA: 2,
        RedLineStatus.OK: 3,
    }
    readings.sort(key=lambda r: (severity.get(r.status, 9), r.cooperative.name, r.key))
    return {
        "by_status": [
            {"status": s.value, "label": str(s.label), "count": counts[s.value]} for s in RedLineStatus
        ],
        "readings": [
            {
                "cooperative": r.cooperative.name,
                "key": r.key,
                "label": r.get_key_display(),
                "as_of": r.as_of,
                "value": r.value,
                "direction": r.direction,
                "limit": r.limit,
                "warning": r.warning,
                "status": r.status,
                "status_label": r.get_status_display(),
            }
            for r in readings
        ],
    }


# --- children compared -------------------------------------------------------------------------


def _children(frame, gep, assets, trading, loans, projects):
    """One row per child division (and one for records on the division itself, when any)."""
    gep_by_code = {c["code"]: c for c in gep["children"]}
    rows = []
    keys = [(c.code, c.name) for c in frame.children]
    present = set(assets) | set(trading) | set(loans) | set(projects)
    if SELF in present:
        keys.append((SELF, _("%(name)s本级") % {"name": frame.division.name}))
    known = {code for code, _name in keys}
    keys += [(code, code) for code in sorted(present - known)]  # codes without a division row
    for code, name in keys:
        a = assets.get(code, {"count": 0, "area": ZERO})
        t = trading.get(code, _empty_trading())
        loan = loans.get(code, {"loans": 0, "outstanding": ZERO, "non_performing": ZERO})
        p = projects.get(code, {"admitted": 0, "investment": ZERO})
        g = gep_by_code.get(code)
        rows.append(
            {
                "code": code if code != SELF else frame.division.code,
                "name": name,
                "is_self": code == SELF,
                "gep_total": g["total"] if g and g["valued"] else None,
                "assets": a["count"],
                "area_mu": _mu(a["area"]),
                "collection_amount": t["collection_amount"],
                "trade_amount": t["trade_amount"],
                "open_listings": t["open_listings"],
                "loans": loan["loans"],
                "outstanding_principal": loan["outstanding"],
                "non_performing_ratio": _ratio(loan["non_performing"], loan["outstanding"]),
                "admitted_projects": p["admitted"],
                "admitted_investment": p["investment"],
            }
        )
    return rows


# --- the whole dashboard -----------------------------------------------------------------------


def dashboard_data(user, division, year=None):
    """Everything the dashboard shows for `division` (within the user's VIEW_OVERSIGHT reach) and
    `year` (default: this year). Raises PermissionDeniedError without the capability, Http404
    outside the reach, DomainError for a year out of range. Money is Decimal; see `jsonable`."""
    require_dashboard(user)
    if not can(user, Capability.VIEW_OVERSIGHT, division=division):
        raise Http404(_("区划不存在或不在您的查看范围内。"))
    today = timezone.localdate()
    year = parse_year(year, today=today)
    frame = _frame(division)
    child_level = frame.children[0].level if frame.children else None
    gep = _gep(frame, year)
    resources, assets_by_child = _resources(frame)
    trading, trading_by_child = _trading(frame, year)
    loans, loans_by_child = _loans(frame, today)
    projects, projects_by_child = _projects(frame)
    return {
        "division": {
            "code": division.code,
            "name": division.name,
            "level": division.level,
            "level_label": str(DivisionLevel(division.level).label),
        },
        "child_level": child_level,
        "child_level_label": str(DivisionLevel(child_level).label) if child_level else "",
        "year": year,
        "as_of": today,
        "gep": gep,
        "resources": resources,
        "trading": trading,
        "loans": loans,
        "projects": projects,
        "gep_balance": _gep_balance(frame, today),
        "red_lines": _red_lines(frame),
        "children": _children(
            frame, gep, assets_by_child, trading_by_child, loans_by_child, projects_by_child
        ),
    }


def jsonable(value):
    """The dashboard with Decimals as strings and dates in ISO format (the API and the page's
    chart data; floats never carry money)."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
