"""GEP balance (占补平衡) pages: the balances of the balancing divisions in reach, a division's
ledger (entries in posting order with their runs and calculation, balance-over-time chart, XLSX
export), an entry, and the forms for rules, restoration and protection credits, releases and
reversals. Only readers of oversight (staff, administrators, auditors) and the projects desk see
them, within their divisions; writes need MANAGE_PROJECTS there (rules: MANAGE_OVERSIGHT)."""

from io import BytesIO

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from openpyxl import Workbook

from tmcs.errors import DomainError, PermissionDeniedError

from ..forms_gep_balance import ProtectionForm, ReleaseForm, RestorationForm, ReverseForm, RuleForm
from ..models import GepBalanceEntry, GepEntryKind
from ..selectors_gep_balance import (
    CATEGORY_LABELS,
    accepted_runs_in,
    balancing_divisions_for,
    chart_series,
    creditable_assets,
    creditable_projects,
    entries_for,
    explain,
    explain_calculation,
    ledger,
    may_manage,
    may_set_rules,
    may_view,
    releasable_projects,
    rules_of,
    with_status,
)
from ..services import gep_balance as services

LEDGER_PAGE_SIZE = 100
TEMPLATES = "projects/gep_balance/"


def _require_view(request):
    if not may_view(request.user):
        raise PermissionDenied


def _division(request, pk):
    """A balancing division in the user's reach (404 otherwise), with its status."""
    _require_view(request)
    division = get_object_or_404(balancing_divisions_for(request.user), pk=pk)
    division.status = services.status_of(division.balance, division.warning)
    return division


def _managed_division(request, pk):
    division = _division(request, pk)
    if not may_manage(request.user, division):
        raise PermissionDenied
    return division


def _form_page(request, form, title, action, *, back, **extra):
    """Run `action(cleaned_data)` on a valid POST; a refusal's field errors go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
    return render(request, TEMPLATES + "form.html", {"form": form, "title": title, "back": back, **extra})


# --- balances -----------------------------------------------------------------------------------


def balance_list(request):
    _require_view(request)
    return render(
        request,
        TEMPLATES + "list.html",
        {
            "divisions": with_status(balancing_divisions_for(request.user)),
            "may_set_rules": may_set_rules(request.user),
        },
    )


def balance_detail(request, pk):
    division = _division(request, pk)
    entries = ledger(request.user, division)
    if request.GET.get("export") == "xlsx":
        return _export(division, entries)
    paginator = Paginator(entries, LEDGER_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page") or paginator.num_pages)  # newest page first
    points = GepBalanceEntry.objects.filter(division=division).order_by("pk")
    rules = list(rules_of(division))  # newest first
    for rule in rules:
        rule.category_labels = "、".join(str(CATEGORY_LABELS.get(c, c)) for c in rule.categories)
    today = timezone.localdate()
    return render(
        request,
        TEMPLATES + "detail.html",
        {
            "division": division,
            "page": page,
            "entries": [_explained(entry) for entry in page.object_list],
            "chart": chart_series(list(points.only("pk", "number", "occurred_on", "balance_after"))),
            "rules": rules,
            "rule_now": next((rule for rule in rules if rule.effective_from <= today), None),
            "may_manage": may_manage(request.user, division),
            "may_set_rules": may_set_rules(request.user, division),
        },
    )


def _explained(entry):
    entry.explained = explain(entry)
    return entry


EXPORT_COLUMNS = [
    gettext_lazy("编号"),
    gettext_lazy("业务日期"),
    gettext_lazy("类型"),
    gettext_lazy("金额（元）"),
    gettext_lazy("记账后余额（元）"),
    pgettext_lazy("key project", "项目"),
    gettext_lazy("核算批次"),
    gettext_lazy("基期核算批次"),
    gettext_lazy("涉及资源"),
    gettext_lazy("摘要"),
    gettext_lazy("冲正对象"),
    gettext_lazy("被冲正"),
    gettext_lazy("记账人"),
    gettext_lazy("记账时间"),
]


def _export(division, entries):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("占补平衡台账")[:31])
    sheet.append([str(label) for label in EXPORT_COLUMNS])
    for entry in entries:
        reversed_by = getattr(entry, "reversed_by", None)
        sheet.append(
            [
                entry.number,
                entry.occurred_on,
                entry.get_kind_display(),
                entry.amount,
                entry.balance_after,
                str(entry.project) if entry.project_id else "",
                f"#{entry.run_id} {entry.run.year}" if entry.run_id else "",
                f"#{entry.baseline_run_id} {entry.baseline_run.year}" if entry.baseline_run_id else "",
                "、".join(asset.code for asset in entry.assets.all()),
                entry.memo,
                entry.reverses.number if entry.reverses_id else "",
                reversed_by.number if reversed_by else "",
                str(entry.recorded_by),
                timezone.localtime(entry.recorded_at).replace(tzinfo=None),
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="gep-ledger-{division.code}-{stamp}.xlsx"'
    return response


# --- entries ------------------------------------------------------------------------------------


def _entry(request, pk):
    _require_view(request)
    return get_object_or_404(entries_for(request.user), pk=pk)


def entry_detail(request, pk):
    entry = _entry(request, pk)
    reversed_by = getattr(entry, "reversed_by", None)
    return render(
        request,
        TEMPLATES + "entry_detail.html",
        {
            "entry": entry,
            "reversed_by": reversed_by,
            "explained": explain(entry),
            "may_reverse": may_manage(request.user, entry.division)
            and entry.kind != GepEntryKind.REVERSAL
            and reversed_by is None,
        },
    )


def entry_reverse(request, pk):
    entry = _entry(request, pk)
    if not may_manage(request.user, entry.division):
        raise PermissionDenied

    def reverse_it(data):
        reversal = services.reverse_entry(actor=request.user, entry=entry, reason=data["reason"])
        messages.success(
            request,
            _("已冲正 %(number)s：%(reversal)s") % {"number": entry.number, "reversal": reversal.number},
        )
        return redirect(reversal.get_absolute_url())

    return _form_page(
        request,
        ReverseForm(request.POST or None),
        _("冲正 %(number)s（%(kind)s %(amount)s 元）")
        % {"number": entry.number, "kind": entry.get_kind_display(), "amount": entry.amount},
        reverse_it,
        back=entry.get_absolute_url(),
        division=entry.division,
    )


# --- rules --------------------------------------------------------------------------------------


def rule_create(request):
    _require_view(request)
    if not may_set_rules(request.user):
        raise PermissionDenied
    initial = {"division": request.GET.get("division")} if request.GET.get("division") else {}

    def create(data):
        rule = services.set_rule(actor=request.user, **data)
        messages.success(
            request,
            _("已发布 %(division)s 的占补平衡规则，自 %(date)s 起生效。")
            % {"division": rule.division.name, "date": rule.effective_from},
        )
        return redirect("projects:gep-balance-detail", rule.division_id)

    return _form_page(
        request,
        RuleForm(request.POST or None, user=request.user, initial=initial),
        _("发布占补平衡规则"),
        create,
        back=reverse("projects:gep-balance-list"),
        rule_help=True,
    )


# --- credits ------------------------------------------------------------------------------------


def _chosen_runs(request, runs, *names):
    """Runs picked on the GET step (to narrow the asset list), ignoring anything not offered."""
    picked = []
    for name in names:
        value = request.GET.get(name) or request.POST.get(name)
        if value and value.isdigit():
            run = runs.filter(pk=int(value)).first()
            if run is not None:
                picked.append(run)
    return picked


def _credit_page(request, division, form, title, measure, record, **extra):
    """A credit form: “预览” shows the calculation (nothing written), “登记” records the entry."""
    back = reverse("projects:gep-balance-detail", args=[division.pk])
    context = {"form": form, "title": title, "back": back, "division": division, "credit": True, **extra}
    if request.method == "POST" and form.is_valid():
        try:
            if "preview" in request.POST:
                calculation = measure(form.cleaned_data)
                context["preview"] = {
                    "calculation": calculation,
                    "explained": explain_calculation(calculation, extra["method"]),
                }
            else:
                entry = record(form.cleaned_data)
                messages.success(
                    request,
                    _("已登记 %(number)s，计入 %(amount)s 元。")
                    % {"number": entry.number, "amount": entry.amount},
                )
                return redirect(entry.get_absolute_url())
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
    return render(request, TEMPLATES + "form.html", context)


def restoration_create(request, pk):
    division = _managed_division(request, pk)
    runs = accepted_runs_in(division)
    picked = _chosen_runs(request, runs, "baseline_run", "run")
    form = RestorationForm(
        request.POST or None,
        initial={"baseline_run": request.GET.get("baseline_run"), "run": request.GET.get("run")},
        division=division,
        runs=runs,
        assets=creditable_assets(division, picked),
        projects=creditable_projects(division),
    )

    def measure(data):
        return services.measure_restoration(
            assets=data["assets"],
            baseline_run=data["baseline_run"],
            run=data["run"],
            division=division,
            project=data["project"],
            on=data["occurred_on"],
            actor=request.user,
        ).calculation

    def record(data):
        return services.record_restoration(actor=request.user, division=division, **data)

    return _credit_page(
        request,
        division,
        form,
        _("登记生态修复增量：%(name)s") % {"name": division.name},
        measure,
        record,
        narrow_fields=["baseline_run", "run"],
        method="restoration",
    )


def protection_create(request, pk):
    division = _managed_division(request, pk)
    runs = accepted_runs_in(division)
    picked = _chosen_runs(request, runs, "run")
    form = ProtectionForm(
        request.POST or None,
        initial={"run": request.GET.get("run")},
        division=division,
        runs=runs,
        assets=creditable_assets(division, picked),
    )

    def measure(data):
        return services.measure_protection(
            assets=data["assets"],
            run=data["run"],
            division=division,
            on=data["occurred_on"],
            actor=request.user,
        ).calculation

    def record(data):
        return services.record_protection(actor=request.user, division=division, **data)

    return _credit_page(
        request,
        division,
        form,
        _("登记新增保护：%(name)s") % {"name": division.name},
        measure,
        record,
        narrow_fields=["run"],
        method="protection",
    )


def release_create(request, pk):
    division = _managed_division(request, pk)
    initial = {"project": request.GET.get("project")} if request.GET.get("project") else {}

    def release(data):
        entry = services.release_project_debit(actor=request.user, **data)
        messages.success(
            request, _("已返还 %(amount)s 元：%(number)s") % {"amount": entry.amount, "number": entry.number}
        )
        return redirect(entry.get_absolute_url())

    return _form_page(
        request,
        ReleaseForm(request.POST or None, projects=releasable_projects(division), initial=initial),
        _("项目退库返还占用：%(name)s") % {"name": division.name},
        release,
        back=reverse("projects:gep-balance-detail", args=[division.pk]),
        division=division,
    )


urlpatterns = [
    path("gep/", balance_list, name="gep-balance-list"),
    path("gep/rules/new/", rule_create, name="gep-rule-create"),
    path("gep/<int:pk>/", balance_detail, name="gep-balance-detail"),
    path("gep/<int:pk>/restoration/", restoration_create, name="gep-restoration-create"),
    path("gep/<int:pk>/protection/", protection_create, name="gep-protection-create"),
    path("gep/<int:pk>/release/", release_create, name="gep-release-create"),
    path("gep/entries/<int:pk>/", entry_detail, name="gep-entry-detail"),
    path("gep/entries/<int:pk>/reverse/", entry_reverse, name="gep-entry-reverse"),
]
