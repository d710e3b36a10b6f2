"""Red-line pages: the overview of the cooperatives in reach, one cooperative's dashboard (a card
per line with the numbers behind it and its history), "recompute now", the readings list with
XLSX export, the thresholds (defaults and overrides); and the cooperative's books (balance sheet,
capital, borrowings, equity stakes and their disposal)."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models.fields.json import KT
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service
from transactions.models import AccountKind

from ..forms_red_lines import (
    BorrowingForm,
    CapitalForm,
    DisposalForm,
    ReadingFilter,
    RedLineForm,
    StakeForm,
)
from ..models import RedLine, RedLineKey, RedLineStatus
from ..selectors_red_lines import (
    book_movements,
    borrowings_of,
    cooperatives_for,
    history,
    latest_readings,
    readings_for,
    stakes_for,
    thresholds_for,
)
from ..services import books, red_lines

HISTORY_DAYS = 365
STATUS_CLASSES = {
    RedLineStatus.OK: "success",
    RedLineStatus.WARNING: "warning",
    RedLineStatus.BREACH: "danger",
    RedLineStatus.NO_DATA: "secondary",
}


def _require_view(user):
    if not can(user, Capability.VIEW_OVERSIGHT):
        raise PermissionDenied


def _cooperative(request, pk, capability=Capability.VIEW_OVERSIGHT):
    _require_view(request.user)
    return get_object_or_404(cooperatives_for(request.user, capability), pk=pk)


def _may_manage(user, cooperative):
    return can(user, Capability.MANAGE_PROJECTS, division=cooperative.division)


def _form_page(request, form, title, action, *, back, **extra):
    """Run `action(cleaned_data)` on a valid POST; a refusal's field errors go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            for name in form.errors:
                if name in form.fields:
                    widget = form.fields[name].widget
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
            messages.error(request, str(exc.detail))
    return render(
        request, "projects/red_lines/form.html", {"form": form, "title": title, "back": back, **extra}
    )


# --- red lines --------------------------------------------------------------------------------


def _card(key, line, reading):
    status = reading.status if reading else RedLineStatus.NO_DATA
    return {
        "key": key,
        "label": RedLineKey(key).label,
        "reading": reading,
        "line": line,
        "value": red_lines.format_value(key, reading.value) if reading else "—",
        "limit": red_lines.format_value(key, line.limit) if line else "—",
        "warning": red_lines.format_value(key, line.warning) if line else "—",
        "status_label": RedLineStatus(status).label,
        "status_class": STATUS_CLASSES[status],
        "details": reading.details if reading else {},
    }


def index(request):
    _require_view(request.user)
    cooperatives = list(cooperatives_for(request.user))
    latest = latest_readings(c.pk for c in cooperatives)
    rows = []
    for cooperative in cooperatives:
        cells = []
        for key in red_lines.KEYS:
            reading = latest.get((cooperative.pk, key))
            status = reading.status if reading else RedLineStatus.NO_DATA
            cells.append(
                {
                    "reading": reading,
                    "value": red_lines.format_value(key, reading.value) if reading else "—",
                    "status_class": STATUS_CLASSES[status],
                    "status_label": RedLineStatus(status).label,
                }
            )
        rows.append((cooperative, cells))
    return render(
        request,
        "projects/red_lines/index.html",
        {
            "rows": rows,
            "keys": [RedLineKey(key).label for key in red_lines.KEYS],
            "may_set": can(request.user, Capability.MANAGE_OVERSIGHT),
        },
    )


def _chart_series(cooperative, lines):
    since = timezone.localdate() - datetime.timedelta(days=HISTORY_DAYS)
    points = history(cooperative, since)
    series = {}
    for key in red_lines.KEYS:
        line = lines.get(key)
        series[key] = {
            "label": str(RedLineKey(key).label),
            "percent": key in red_lines.PERCENT_KEYS,
            "limit": str(line.limit) if line else None,
            "warning": str(line.warning) if line else None,
            "points": [
                [as_of.isoformat(), None if value is None else str(value), status]
                for as_of, value, status, _limit, _warning in points.get(key, [])
            ],
        }
    return series


def cooperative_detail(request, pk):
    cooperative = _cooperative(request, pk)
    lines = red_lines.thresholds(cooperative)
    latest = latest_readings([cooperative.pk])
    cards = [_card(key, lines.get(key), latest.get((cooperative.pk, key))) for key in red_lines.KEYS]
    dates = {card["reading"].as_of for card in cards if card["reading"]}
    return render(
        request,
        "projects/red_lines/cooperative.html",
        {
            "cooperative": cooperative,
            "cards": cards,
            "as_of": max(dates) if dates else None,
            "stale": bool(dates) and max(dates) < timezone.localdate(),
            "series": _chart_series(cooperative, lines),
            "may_recompute": _may_manage(request.user, cooperative),
            "may_set": can(request.user, Capability.MANAGE_OVERSIGHT, division=cooperative.division),
        },
    )


@require_POST
def recompute(request, pk):
    cooperative = _cooperative(request, pk)
    run_service(
        request,
        lambda: red_lines.recompute(actor=request.user, cooperative=cooperative),
        success=_("已重新计算 %(name)s 今日的风险红线。") % {"name": cooperative.name},
    )
    return redirect("projects:red-line-cooperative", cooperative.pk)


class ReadingListView(ObjectListView):
    title = gettext_lazy("红线监测记录")
    filterset_class = ReadingFilter
    export_name = "red-line-readings"
    default_sort = ("-as_of", "cooperative__division__code", "key")
    columns = [
        Column(gettext_lazy("合作社"), "cooperative.name", sort="cooperative__division__code"),
        Column(gettext_lazy("指标"), "get_key_display", sort="key"),
        Column(gettext_lazy("日期"), "as_of", sort="as_of"),
        Column(gettext_lazy("数值"), "value", sort="value"),
        Column(gettext_lazy("分子（元）"), "numerator"),
        Column(gettext_lazy("分母（元）"), "denominator"),
        Column(gettext_lazy("方向"), "get_direction_display"),
        Column(gettext_lazy("红线"), "limit"),
        Column(gettext_lazy("预警线"), "warning"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("说明"), "explanation"),
    ]

    def get(self, request):
        _require_view(request.user)
        return super().get(request)

    def get_queryset(self):
        return readings_for(self.request.user).annotate(explanation=KT("details__explanation"))


def thresholds(request):
    _require_view(request.user)
    order = {key: n for n, key in enumerate(red_lines.KEYS)}
    rows = sorted(
        thresholds_for(request.user),
        key=lambda r: (
            r.cooperative.division.code if r.cooperative else "",
            r.cooperative_id or 0,
            order[r.key],
        ),
    )
    may_set = can(request.user, Capability.MANAGE_OVERSIGHT)
    return render(
        request,
        "projects/red_lines/thresholds.html",
        {
            "defaults": [r for r in rows if r.cooperative_id is None],
            "overrides": [r for r in rows if r.cooperative_id is not None],
            "may_set": may_set,
            "cooperatives": cooperatives_for(request.user, Capability.MANAGE_OVERSIGHT) if may_set else [],
            "keys": RedLineKey.choices,
        },
    )


def threshold_edit(request):
    _require_view(request.user)
    if not can(request.user, Capability.MANAGE_OVERSIGHT):
        raise PermissionDenied
    key = request.GET.get("key", "")
    if key not in RedLineKey.values:
        raise Http404(_("红线指标无效。"))
    cooperative = None
    if request.GET.get("cooperative"):
        cooperative = get_object_or_404(
            cooperatives_for(request.user, Capability.MANAGE_OVERSIGHT), pk=request.GET["cooperative"]
        )
    direction = red_lines.DIRECTIONS[key]
    current = RedLine.objects.filter(cooperative=cooperative, key=key).first()
    in_force = current or RedLine.objects.filter(cooperative=None, key=key).first()
    initial = {}
    if in_force is not None:
        initial = {
            "limit": in_force.limit.normalize(),
            "warning": in_force.warning.normalize(),
            "source": in_force.source,
        }

    def save(data):
        red_lines.set_red_line(
            actor=request.user, cooperative=cooperative, key=key, direction=direction, **data
        )
        messages.success(request, _("红线已保存。"))
        if cooperative is not None:
            return redirect("projects:red-line-cooperative", cooperative.pk)
        return redirect("projects:red-line-thresholds")

    label = RedLineKey(key).label
    title = (
        _("设置本社红线：%(coop)s · %(key)s") % {"coop": cooperative.name, "key": label}
        if cooperative
        else _("设置平台默认红线：%(key)s") % {"key": label}
    )
    return _form_page(
        request,
        RedLineForm(
            request.POST or None, initial=initial, direction=direction, amount=key in red_lines.AMOUNT_KEYS
        ),
        title,
        save,
        back=reverse("projects:red-line-thresholds"),
        direction_label=direction.label,
        inherited=cooperative is not None and current is None,
    )


@require_POST
def threshold_clear(request):
    _require_view(request.user)
    cooperative = get_object_or_404(
        cooperatives_for(request.user, Capability.MANAGE_OVERSIGHT), pk=request.POST.get("cooperative") or 0
    )
    run_service(
        request,
        lambda: red_lines.clear_red_line(
            actor=request.user, cooperative=cooperative, key=request.POST.get("key")
        ),
        success=_("已删除本社红线，恢复使用平台默认值。"),
    )
    return redirect("projects:red-line-thresholds")


# --- the cooperative's books ------------------------------------------------------------------


def books_index(request):
    """Which cooperative's books: straight to them when the user reaches only one."""
    _require_view(request.user)
    cooperatives = list(cooperatives_for(request.user))
    if len(cooperatives) == 1:
        return redirect("projects:books", cooperatives[0].pk)
    return render(request, "projects/red_lines/books_index.html", {"cooperatives": cooperatives})


def books_page(request, pk):
    cooperative = _cooperative(request, pk)
    sheet = books.balance_sheet(cooperative)
    stakes = list(
        stakes_for(request.user)
        .filter(cooperative=cooperative)
        .order_by("disposed_on", "-acquired_on", "-pk")
    )
    may_oversee = can(request.user, Capability.MANAGE_OVERSIGHT)
    lenders = books.borrowings_by_lender(cooperative, sheet["as_of"])
    owed = sum((row["outstanding"] for row in lenders), books.ZERO)
    return render(
        request,
        "projects/red_lines/books.html",
        {
            "cooperative": cooperative,
            "sheet": sheet,
            "assets": books.labelled(sheet["assets"]),
            "liabilities": books.labelled(sheet["liabilities"]),
            "lenders": lenders,
            "borrowings": borrowings_of(cooperative),
            # BORROWINGS posted without a Borrowing row (not through this module): no lender known
            "unassigned_borrowing": sheet["liabilities"][AccountKind.BORROWINGS] - owed,
            "stakes": stakes,
            "movements": book_movements(cooperative),
            "may_manage": _may_manage(request.user, cooperative),
            "problems": books.attribution_problems() if may_oversee else [],
        },
    )


def _books_form(request, pk, form_class, title, record, success, **extra):
    cooperative = _cooperative(request, pk)
    if not _may_manage(request.user, cooperative):
        raise PermissionDenied
    form = form_class(request.POST or None, cooperative=cooperative)

    back = reverse("projects:books", args=[cooperative.pk])

    def action(data):
        token = data.pop("token")
        record(cooperative=cooperative, idempotency_key=f"web:{token}", **data)
        messages.success(request, success)
        return redirect(back)

    return _form_page(
        request,
        form,
        title % {"name": cooperative.name},
        action,
        back=back,
        cooperative=cooperative,
        sheet=books.balance_sheet(cooperative),
        **{name: value(cooperative) for name, value in extra.items()},
    )


def capital_create(request, pk):
    return _books_form(
        request,
        pk,
        CapitalForm,
        _("登记资本金到账：%(name)s"),
        lambda **kw: books.record_capital(actor=request.user, **kw),
        _("资本金已入账。"),
    )


def borrowing_create(request, pk):
    return _books_form(
        request,
        pk,
        BorrowingForm,
        _("登记借入资金：%(name)s"),
        lambda **kw: books.record_borrowing(actor=request.user, **kw),
        _("借款已入账。"),
    )


def repayment_create(request, pk):
    return _books_form(
        request,
        pk,
        BorrowingForm,
        _("登记归还借款：%(name)s"),
        lambda **kw: books.repay_borrowing(actor=request.user, **kw),
        _("还款已入账。"),
        lenders=lambda cooperative: [
            row for row in books.borrowings_by_lender(cooperative) if row["outstanding"] > 0
        ],
    )


def stake_create(request, pk):
    cooperative = _cooperative(request, pk)
    if not _may_manage(request.user, cooperative):
        raise PermissionDenied

    def create(data):
        token = data.pop("token")
        stake = books.record_equity_stake(
            actor=request.user, cooperative=cooperative, idempotency_key=f"web:{token}", **data
        )
        messages.success(request, _("对外股权投资已登记：%(name)s") % {"name": stake.investee.name})
        return redirect("projects:stake-detail", stake.pk)

    return _form_page(
        request,
        StakeForm(request.POST or None, cooperative=cooperative),
        _("登记对外股权投资：%(name)s") % {"name": cooperative.name},
        create,
        back=reverse("projects:books", args=[cooperative.pk]),
        cooperative=cooperative,
        sheet=books.balance_sheet(cooperative),
    )


def stake_detail(request, pk):
    _require_view(request.user)
    stake = get_object_or_404(stakes_for(request.user), pk=pk)
    party = books.cooperative_party(stake.cooperative)
    loans = []
    if party is not None and stake.disposed_on is None:
        loans = list(
            red_lines.loan_exposures(stake.cooperative, party, timezone.localdate())
            .filter(borrower__organization=stake.investee_id, outstanding__gt=0)
            .select_related("bank")
            .order_by("pk")
        )
    movements = [stake.movement] + ([stake.disposal_movement] if stake.disposal_movement else [])
    return render(
        request,
        "projects/red_lines/stake_detail.html",
        {
            "stake": stake,
            "movements": [(m, list(m.postings.select_related("account__party"))) for m in movements],
            "loans": [(loan, books.cents(loan.exposure)) for loan in loans],
            "may_dispose": stake.disposed_on is None and _may_manage(request.user, stake.cooperative),
        },
    )


def stake_dispose(request, pk):
    _require_view(request.user)
    stake = get_object_or_404(stakes_for(request.user), pk=pk)
    if not _may_manage(request.user, stake.cooperative):
        raise PermissionDenied

    def dispose(data):
        books.dispose_equity_stake(actor=request.user, stake=stake, **data)
        messages.success(request, _("股权投资已退出：%(name)s") % {"name": stake.investee.name})
        return redirect("projects:stake-detail", stake.pk)

    return _form_page(
        request,
        DisposalForm(request.POST or None),
        _("股权投资退出：%(name)s") % {"name": stake.investee.name},
        dispose,
        back=reverse("projects:stake-detail", args=[stake.pk]),
        stake=stake,
    )


urlpatterns = [
    path("red-lines/", index, name="red-lines"),
    path("red-lines/readings/", ReadingListView.as_view(), name="red-line-readings"),
    path("red-lines/thresholds/", thresholds, name="red-line-thresholds"),
    path("red-lines/thresholds/edit/", threshold_edit, name="red-line-edit"),
    path("red-lines/thresholds/clear/", threshold_clear, name="red-line-clear"),
    path("red-lines/cooperatives/<int:pk>/", cooperative_detail, name="red-line-cooperative"),
    path("red-lines/cooperatives/<int:pk>/recompute/", recompute, name="red-line-recompute"),
    path("books/", books_index, name="books"),
    path("books/<int:pk>/", books_page, name="books"),
    path("books/<int:pk>/capital/", capital_create, name="books-capital"),
    path("books/<int:pk>/borrowing/", borrowing_create, name="books-borrowing"),
    path("books/<int:pk>/repayment/", repayment_create, name="books-repayment"),
    path("books/<int:pk>/stakes/new/", stake_create, name="stake-create"),
    path("stakes/<int:pk>/", stake_detail, name="stake-detail"),
    path("stakes/<int:pk>/dispose/", stake_dispose, name="stake-dispose"),
]
