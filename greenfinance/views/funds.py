"""Green bonds and funds pages: the fund register (green funds and, read-only, finance's risk
compensation funds), a fund's page (position, contributors, backed projects and loans, the
movement journal with its running cash balance and chart), one form per operation, reversal,
closing, the movement list and a fund's XLSX statement for a period. Views are thin: every write
is a `greenfinance.services.funds` call."""

from io import BytesIO

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView, _cell
from tmcs.web import run_service

from ..forms_funds import (
    CommitmentForm,
    ContributionForm,
    DrawdownForm,
    FundFilter,
    FundForm,
    FundMovementFilter,
    IncomeExpenseForm,
    RedeemForm,
    ReturnForm,
    ReverseForm,
    StatementForm,
    WriteOffForm,
)
from ..models import FundMovementKind, FundStatus, GreenFund
from ..selectors_funds import funds_for, journal, movements_for, period_rows, register_rows
from ..services import funds as services

K = FundMovementKind


def _may_read(user):
    return can(user, Capability.MANAGE_GREEN_FINANCE) or can(user, Capability.VIEW_OVERSIGHT)


def _may_manage(user, fund):
    return can(user, Capability.MANAGE_GREEN_FINANCE, division=fund.division)


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
        request, "greenfinance/funds/form.html", {"form": form, "title": title, "back": back, **extra}
    )


# --- register ---------------------------------------------------------------------------------


class FundRegisterView(ObjectListView):
    """Not a queryset list: green funds and finance's risk compensation funds are merged into
    RegisterRow objects, then filtered, sorted, paginated and exported like any list."""

    template_name = "greenfinance/funds/register.html"
    title = gettext_lazy("绿色债券与基金")
    filterset_class = FundFilter
    export_name = "green-funds"
    default_sort = "-issue_date"
    columns = [
        Column(gettext_lazy("编号"), "number", sort="number"),
        Column(gettext_lazy("名称"), "name", sort="name", link=True),
        Column(gettext_lazy("类型"), "kind_label", sort="kind"),
        Column(gettext_lazy("管理人/发行人"), "manager", sort="manager"),
        Column(gettext_lazy("覆盖区划"), "division", sort="division_code"),
        Column(gettext_lazy("规模（元）"), "size", sort="size"),
        Column(gettext_lazy("已认缴（元）"), "committed", sort="committed"),
        Column(gettext_lazy("资金余额（元）"), "cash", sort="cash"),
        Column(gettext_lazy("投放余额（元）"), "deployed", sort="deployed"),
        Column(gettext_lazy("状态"), "status_label", sort="status"),
        Column(gettext_lazy("设立/发行日"), "issue_date", sort="issue_date"),
        Column(gettext_lazy("管理模块"), "source_label"),
    ]

    def get(self, request):
        if not _may_read(request.user):
            raise PermissionDenied
        filterset = FundFilter(request.GET or None, queryset=GreenFund.objects.none(), request=request)
        if filterset.is_bound and not filterset.is_valid():
            rows = []
        else:
            data = filterset.form.cleaned_data if filterset.is_bound else {}
            rows = register_rows(
                request.user,
                kind=data.get("kind") or None,
                status=data.get("status") or None,
                manager=data.get("manager"),
                division=data.get("division"),
                q=(data.get("q") or "").strip() or None,
            )
        sort = request.GET.get("sort", "")
        field = sort.lstrip("-") if sort.lstrip("-") in {c.sort for c in self.columns if c.sort} else None
        if field is None:
            sort, field = self.default_sort, self.default_sort.lstrip("-")
        present = [row for row in rows if getattr(row, field) is not None]
        present.sort(key=lambda row: (getattr(row, field), row.number), reverse=sort.startswith("-"))
        rows = present + [row for row in rows if getattr(row, field) is None]
        if request.GET.get("export") == "xlsx":
            return self.export(rows)
        page = Paginator(rows, self.paginate_by).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        without_sort = query.copy()
        without_sort.pop("sort", None)
        context = {
            "title": self.title,
            "columns": self.columns,
            "filterset": filterset,
            "page": page,
            "rows": [(row, [(c, c.value(row)) for c in self.columns]) for row in page.object_list],
            "sort": request.GET.get("sort", ""),
            "query": query.urlencode(),
            "query_without_sort": without_sort.urlencode(),
            "create_url": reverse("greenfinance:fund-create")
            if can(request.user, Capability.MANAGE_GREEN_FINANCE)
            else None,
        }
        return render(request, self.template_name, context)


def fund_list(request):
    return FundRegisterView.as_view()(request)


class MovementListView(ObjectListView):
    title = gettext_lazy("基金资金变动")
    filterset_class = FundMovementFilter
    export_name = "green-fund-movements"
    default_sort = ("-occurred_on", "-pk")
    columns = [
        Column(gettext_lazy("基金"), "fund.number", sort="fund__number"),
        Column(gettext_lazy("业务日期"), "occurred_on", sort="occurred_on"),
        Column(gettext_lazy("类型"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("金额（元）"), "amount", sort="amount"),
        Column(gettext_lazy("对基金存款的影响（元）"), "cash_effect", sort="cash_effect"),
        Column(gettext_lazy("对方主体"), "counterparty"),
        Column(gettext_lazy("支持项目"), "project.number"),
        Column(gettext_lazy("支持贷款"), "loan.number"),
        Column(gettext_lazy("凭证号"), "reference", sort="reference"),
        Column(gettext_lazy("摘要"), "memo"),
        Column(gettext_lazy("记账凭证"), "movement_id"),
    ]

    def get(self, request):
        if not _may_read(request.user):
            raise PermissionDenied
        return super().get(request)

    def get_queryset(self):
        return movements_for(self.request.user)


def movement_list(request):
    return MovementListView.as_view()(request)


# --- a fund -----------------------------------------------------------------------------------


def fund_detail(request, pk):
    fund = get_object_or_404(funds_for(request.user), pk=pk)
    rows, series = journal(fund)
    may_manage = _may_manage(request.user, fund) and fund.status != FundStatus.CLOSED
    allowed = services.ALLOWED[fund.status] if may_manage else frozenset()
    return render(
        request,
        "greenfinance/funds/detail.html",
        {
            "fund": fund,
            "position": services.fund_position(fund),
            "rows": rows,
            "series": series,
            "may_manage": may_manage,
            "allowed": {kind: kind in allowed for kind in [*K.values, services.COMMITMENT]},
            "may_close": may_manage and FundStatus.CLOSED in services.FUND_TRANSITIONS[fund.status],
            "today": timezone.localdate(),
            "year_start": timezone.localdate().replace(month=1, day=1),
        },
    )


def fund_create(request):
    if not can(request.user, Capability.MANAGE_GREEN_FINANCE):
        raise PermissionDenied

    def create(data):
        fund = services.create_fund(actor=request.user, **data)
        messages.success(request, _("已登记：%(fund)s") % {"fund": fund})
        return redirect(fund)

    return _form_page(
        request,
        FundForm(request.POST or None, user=request.user),
        _("登记绿色债券/基金"),
        create,
        back=reverse("greenfinance:fund-list"),
    )


def _managed(request, pk):
    fund = get_object_or_404(funds_for(request.user), pk=pk)
    if not _may_manage(request.user, fund):
        raise PermissionDenied
    return fund


def _operation(request, pk, form_class, title, run, success, *, with_fund=True):
    """One operation page: the form (bound to the fund's choices), the service call, back to the
    fund with a message."""
    fund = _managed(request, pk)
    kwargs = {"fund": fund} if with_fund else {}
    form = form_class(request.POST or None, **kwargs)

    def act(data):
        result = run(fund, form, dict(data))
        messages.success(request, success(result))
        return redirect(fund)

    return _form_page(
        request,
        form,
        title % {"fund": fund.name},
        act,
        back=fund.get_absolute_url(),
        fund=fund,
        position=services.fund_position(fund),
    )


def _amount_message(text):
    return lambda movement: text % {"amount": movement.amount}


def fund_commit(request, pk):
    def run(fund, form, data):
        return services.record_commitment(actor=request.user, fund=fund, **data)

    return _operation(
        request,
        pk,
        CommitmentForm,
        _("登记认缴：%(fund)s"),
        run,
        _amount_message(_("认缴已登记：%(amount)s 元")),
        with_fund=False,
    )


def fund_contribute(request, pk):
    def run(fund, form, data):
        return services.record_contribution(actor=request.user, **data)

    return _operation(
        request,
        pk,
        ContributionForm,
        _("出资到账：%(fund)s"),
        run,
        _amount_message(_("出资已入账：%(amount)s 元")),
    )


def fund_draw_down(request, pk):
    def run(fund, form, data):
        return services.draw_down(actor=request.user, fund=fund, recipient=form.recipient(), **data)

    return _operation(
        request,
        pk,
        DrawdownForm,
        _("资金投放：%(fund)s"),
        run,
        _amount_message(_("投放已记账：%(amount)s 元")),
    )


def fund_return(request, pk):
    def run(fund, form, data):
        return services.record_return(actor=request.user, **data)

    return _operation(
        request, pk, ReturnForm, _("投放收回：%(fund)s"), run, _amount_message(_("收回已入账：%(amount)s 元"))
    )


def fund_write_off(request, pk):
    def run(fund, form, data):
        return services.write_off(actor=request.user, **data)

    return _operation(
        request, pk, WriteOffForm, _("投放核销：%(fund)s"), run, _amount_message(_("已核销：%(amount)s 元"))
    )


def fund_income(request, pk):
    def run(fund, form, data):
        return services.record_income(actor=request.user, fund=fund, **data)

    return _operation(
        request,
        pk,
        IncomeExpenseForm,
        _("登记收益：%(fund)s"),
        run,
        _amount_message(_("收益已入账：%(amount)s 元")),
        with_fund=False,
    )


def fund_expense(request, pk):
    def run(fund, form, data):
        return services.record_expense(actor=request.user, fund=fund, **data)

    return _operation(
        request,
        pk,
        IncomeExpenseForm,
        _("登记费用/付息：%(fund)s"),
        run,
        _amount_message(_("费用已记账：%(amount)s 元")),
        with_fund=False,
    )


def fund_redeem(request, pk):
    def run(fund, form, data):
        return services.redeem(actor=request.user, **data)

    return _operation(
        request,
        pk,
        RedeemForm,
        _("退出/兑付：%(fund)s"),
        run,
        _amount_message(_("兑付已记账：%(amount)s 元")),
    )


def movement_reverse(request, pk):
    movement = get_object_or_404(movements_for(request.user), pk=pk)
    fund = movement.fund
    if not _may_manage(request.user, fund):
        raise PermissionDenied

    def act(data):
        services.reverse_fund_movement(actor=request.user, fund_movement=movement, reason=data["reason"])
        messages.success(request, _("已冲正：#%(pk)s") % {"pk": movement.pk})
        return redirect(fund)

    return _form_page(
        request,
        ReverseForm(request.POST or None),
        _("冲正：%(kind)s #%(pk)s") % {"kind": movement.get_kind_display(), "pk": movement.pk},
        act,
        back=fund.get_absolute_url(),
        fund=fund,
        movement=movement,
    )


@require_POST
def fund_close(request, pk):
    fund = _managed(request, pk)
    run_service(
        request,
        lambda: services.close_fund(actor=request.user, fund=fund),
        success=_("基金已清算：%(fund)s") % {"fund": fund.name},
    )
    return redirect(fund)


# --- statement --------------------------------------------------------------------------------


def fund_statement(request, pk):
    """XLSX statement of a fund for a period: the position today, and the period's movements
    between the opening and closing cash balances."""
    fund = get_object_or_404(funds_for(request.user), pk=pk)
    form = StatementForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("请填写有效的对账期间。"))
        return redirect(fund)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    opening, rows, closing = period_rows(fund, start, end)
    position = services.fund_position(fund)
    workbook = Workbook()
    summary = workbook.active
    summary.title = _("概况")
    for label, value in [
        (_("基金编号"), fund.number),
        (_("名称"), fund.name),
        (_("类型"), fund.get_kind_display()),
        (_("管理人/发行人"), fund.manager.name),
        (_("覆盖区划"), fund.division.name),
        (_("状态"), fund.get_status_display()),
        (_("期间"), f"{start.isoformat()} — {end.isoformat()}"),
        (_("期初存款（元）"), opening),
        (_("期末存款（元）"), closing),
        (_("规模（元）"), position["size"]),
        (_("已认缴（元）"), position["committed"]),
        (_("已实缴（元）"), position["paid_in"]),
        (_("已兑付（元）"), position["redeemed"]),
        (_("当前存款（元）"), position["cash"]),
        (_("投放余额（元）"), position["deployed"]),
        (_("累计收益（元）"), position["income"]),
        (_("累计费用及付息（元）"), position["expense"]),
        (_("累计核销（元）"), position["losses"]),
        (_("生成时间"), timezone.localtime().replace(tzinfo=None)),
    ]:
        summary.append([str(label), _cell(value)])
    sheet = workbook.create_sheet(_("资金流水"))
    sheet.append(
        [
            str(label)
            for label in (
                _("业务日期"),
                _("类型"),
                _("对方主体"),
                _("支持项目"),
                _("支持贷款"),
                _("摘要"),
                _("凭证号"),
                _("存款增加（元）"),
                _("存款减少（元）"),
                _("存款余额（元）"),
                _("记账凭证"),
            )
        ]
    )
    sheet.append([start, str(_("期初余额")), "", "", "", "", "", None, None, opening, None])
    for movement, running in rows:
        effect = movement.cash_effect
        sheet.append(
            [
                movement.occurred_on,
                str(movement.get_kind_display()),
                str(movement.counterparty or ""),
                movement.project.number if movement.project_id else "",
                movement.loan.number if movement.loan_id else "",
                movement.memo,
                movement.reference,
                effect if effect > 0 else None,
                -effect if effect < 0 else None,
                running,
                movement.movement_id,
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"{fund.number}-{start.isoformat()}-{end.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("funds/", fund_list, name="fund-list"),
    path("funds/new/", fund_create, name="fund-create"),
    path("funds/movements/", movement_list, name="fund-movement-list"),
    path("funds/movements/<int:pk>/reverse/", movement_reverse, name="fund-movement-reverse"),
    path("funds/<int:pk>/", fund_detail, name="fund-detail"),
    path("funds/<int:pk>/commit/", fund_commit, name="fund-commit"),
    path("funds/<int:pk>/contribute/", fund_contribute, name="fund-contribute"),
    path("funds/<int:pk>/draw-down/", fund_draw_down, name="fund-draw-down"),
    path("funds/<int:pk>/return/", fund_return, name="fund-return"),
    path("funds/<int:pk>/write-off/", fund_write_off, name="fund-write-off"),
    path("funds/<int:pk>/income/", fund_income, name="fund-income"),
    path("funds/<int:pk>/expense/", fund_expense, name="fund-expense"),
    path("funds/<int:pk>/redeem/", fund_redeem, name="fund-redeem"),
    path("funds/<int:pk>/close/", fund_close, name="fund-close"),
    path("funds/<int:pk>/statement/", fund_statement, name="fund-statement"),
]
