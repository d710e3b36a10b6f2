"""Performance evaluation pages: evaluation schemes (list, detail, create, deactivate), the evaluate
form (one cooperative or all peers of a level), evaluations (list, detail with every number and
its explanation, PDF report), and the comparison of peers for a scheme and period (table, charts,
XLSX and PDF)."""

from decimal import Decimal
from io import BytesIO

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, DateField, ExpressionWrapper, F, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from directory.models import DivisionLevel
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service
from transactions.pdf import render_pdf

from ..forms_performance import ComparisonForm, EvaluateForm, EvaluationFilter, SchemeFilter, SchemeForm
from ..selectors_performance import (
    comparison,
    evaluable_cooperatives,
    evaluations_for,
    last_day,
    may_evaluate_any,
    may_manage_schemes,
    may_read,
    schemes_for,
    with_target_text,
)
from ..services import performance as services


def _require_read(user):
    if not may_read(user):
        raise PermissionDenied


def _form_page(request, form, title, action, *, back, template="projects/performance/form.html", **extra):
    """Run `action(cleaned_data)` on a valid POST; a refusal's field errors go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            _mark_invalid(form)
            messages.error(request, str(exc.detail))
    return render(request, template, {"form": form, "title": title, "back": back, **extra})


def _mark_invalid(form):
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"


def _pdf(content, filename):
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- schemes ----------------------------------------------------------------------------------


class SchemeListView(ObjectListView):
    title = gettext_lazy("绩效评价方案")
    filterset_class = SchemeFilter
    export_name = "evaluation-schemes"
    default_sort = ("-pk",)
    columns = [
        Column(gettext_lazy("方案名称"), "name", sort="name", link=True),
        Column(gettext_lazy("版本"), "version", sort="version"),
        Column(gettext_lazy("依据"), "source"),
        Column(gettext_lazy("启用"), "is_active", sort="is_active"),
        Column(gettext_lazy("创建时间"), "created_at", sort="created_at"),
    ]

    def get(self, request):
        _require_read(request.user)
        return super().get(request)

    def get_queryset(self):
        return schemes_for(self.request.user)

    def get_create_url(self):
        return reverse("projects:scheme-create") if may_manage_schemes(self.request.user) else None


def scheme_detail(request, pk):
    _require_read(request.user)
    scheme = get_object_or_404(schemes_for(request.user), pk=pk)
    indicators = with_target_text(list(scheme.indicators.all()))
    periods = (
        evaluations_for(request.user)
        .filter(scheme=scheme)
        .values("period_start", "period_end", "cooperative__division__level")
        .annotate(n=Count("pk"))
        .order_by("-period_end", "-period_start", "cooperative__division__level")
    )
    compare_url = reverse("projects:performance-compare", args=[scheme.pk])
    return render(
        request,
        "projects/performance/scheme_detail.html",
        {
            "scheme": scheme,
            "indicators": indicators,
            "total_weight": sum((i.weight for i in indicators), Decimal(0)),
            "periods": [
                {
                    "start": row["period_start"],
                    "last_day": last_day(row["period_end"]),
                    "level": DivisionLevel(row["cooperative__division__level"]).label,
                    "count": row["n"],
                    "url": compare_url
                    + "?"
                    + urlencode(
                        {
                            "period_start": row["period_start"].isoformat(),
                            "period_end": row["period_end"].isoformat(),
                            "level": row["cooperative__division__level"],
                        }
                    ),
                }
                for row in periods
            ],
            "may_manage": may_manage_schemes(request.user),
            "may_evaluate": scheme.is_active and may_evaluate_any(request.user),
        },
    )


def scheme_create(request):
    if not may_manage_schemes(request.user):
        raise PermissionDenied
    form = SchemeForm(request.POST or None)

    def create(data):
        scheme = services.create_scheme(
            actor=request.user,
            name=data["name"],
            version=data["version"],
            source=data["source"],
            indicators=form.indicators(),
        )
        messages.success(request, _("绩效评价方案已创建：%(scheme)s") % {"scheme": scheme})
        return redirect("projects:scheme-detail", scheme.pk)

    return _form_page(
        request,
        form,
        _("新建绩效评价方案"),
        create,
        back=reverse("projects:scheme-list"),
        scheme_help=True,
    )


@require_POST
def scheme_deactivate(request, pk):
    _require_read(request.user)
    scheme = get_object_or_404(schemes_for(request.user), pk=pk)
    run_service(
        request,
        lambda: services.deactivate_scheme(actor=request.user, scheme=scheme),
        success=_("评价方案已停用：%(scheme)s") % {"scheme": scheme},
    )
    return redirect("projects:scheme-detail", scheme.pk)


# --- evaluations ------------------------------------------------------------------------------


class EvaluationListView(ObjectListView):
    title = gettext_lazy("绩效评价")
    filterset_class = EvaluationFilter
    export_name = "performance-evaluations"
    default_sort = ("-period_end", "scheme_id", "rank", "cooperative__division__code")
    columns = [
        Column(gettext_lazy("合作社"), "cooperative.name", sort="cooperative__division__code", link=True),
        Column(gettext_lazy("评价方案"), "scheme", sort="scheme__version"),
        Column(gettext_lazy("评价期起"), "period_start", sort="period_start"),
        Column(gettext_lazy("评价期止"), "last_day", sort="period_end"),
        Column(gettext_lazy("总分"), "total_score", sort="total_score"),
        Column(gettext_lazy("同级排名"), "rank_display", sort="rank"),
        Column(gettext_lazy("计算时间"), "computed_at", sort="computed_at"),
    ]

    def get(self, request):
        _require_read(request.user)
        return super().get(request)

    def get_queryset(self):
        # the stored end is exclusive: show the last day; rank as "2/5"
        return evaluations_for(self.request.user).annotate(
            last_day=ExpressionWrapper(F("period_end") - Value(1), output_field=DateField()),
            rank_display=Concat(
                Cast("rank", CharField()),
                Value("/"),
                Cast("peer_count", CharField()),
                output_field=CharField(),
            ),
        )

    def get_create_url(self):
        return reverse("projects:performance-evaluate") if may_evaluate_any(self.request.user) else None


def _decorate(evaluation):
    """The period's last day, for the templates (the stored end is exclusive)."""
    evaluation.last_day = last_day(evaluation)
    return evaluation


def evaluate(request):
    if not may_evaluate_any(request.user):
        raise PermissionDenied
    cooperatives = evaluable_cooperatives(request.user)
    initial = {}
    if request.GET.get("scheme"):
        initial["scheme"] = request.GET["scheme"]
    form = EvaluateForm(request.POST or None, cooperatives=cooperatives, initial=initial)

    def run(data):
        scheme, start, end = data["scheme"], data["period_start"], data["period_end"]
        if data["scope"] == EvaluateForm.ONE:
            evaluation = services.evaluate_cooperative(
                actor=request.user,
                scheme=scheme,
                cooperative=data["cooperative"],
                period_start=start,
                period_end=end,
            )
            messages.success(
                request,
                _("已完成评价：%(cooperative)s，总分 %(score)s")
                % {"cooperative": evaluation.cooperative.name, "score": evaluation.total_score},
            )
            return redirect(evaluation.get_absolute_url())
        evaluated = services.evaluate_peers(
            actor=request.user, scheme=scheme, level=data["level"], period_start=start, period_end=end
        )
        messages.success(request, _("已完成同级评价并排名：%(n)s 家合作社") % {"n": len(evaluated)})
        query = urlencode(
            {"period_start": start.isoformat(), "period_end": end.isoformat(), "level": data["level"]}
        )
        return redirect(reverse("projects:performance-compare", args=[scheme.pk]) + "?" + query)

    return _form_page(
        request,
        form,
        _("开展绩效评价"),
        run,
        back=reverse("projects:performance-list"),
        evaluate_help=True,
    )


def _evaluation(request, pk):
    _require_read(request.user)
    return _decorate(get_object_or_404(evaluations_for(request.user), pk=pk))


def performance_detail(request, pk):
    evaluation = _evaluation(request, pk)
    scheme = evaluation.scheme
    compare_query = urlencode(
        {
            "period_start": evaluation.period_start.isoformat(),
            "period_end": evaluation.period_end.isoformat(),
            "level": evaluation.cooperative.division.level,
        }
    )
    return render(
        request,
        "projects/performance/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "scheme": scheme,
            "rows": evaluation.indicators,
            "compare_url": reverse("projects:performance-compare", args=[scheme.pk]) + "?" + compare_query,
            "may_recompute": scheme.is_active and services.may_evaluate(request.user, evaluation.cooperative),
        },
    )


@require_POST
def performance_recompute(request, pk):
    evaluation = _evaluation(request, pk)
    result = run_service(
        request,
        lambda: services.evaluate_cooperative(
            actor=request.user,
            scheme=evaluation.scheme,
            cooperative=evaluation.cooperative,
            period_start=evaluation.period_start,
            period_end=evaluation.period_end,
        ),
        success=_("已按最新台账重新计算。"),
    )
    return redirect((result or evaluation).get_absolute_url())


def performance_pdf(request, pk):
    evaluation = _evaluation(request, pk)
    content = render_pdf(
        "projects/performance/pdf/evaluation.html",
        {
            "evaluation": evaluation,
            "scheme": evaluation.scheme,
            "rows": evaluation.indicators,
            "printed_at": timezone.localtime(),
        },
    )
    return _pdf(content, f"performance-{evaluation.pk}.pdf")


# --- comparison -------------------------------------------------------------------------------


def _comparison(request, pk):
    """(scheme, form, data or None) for the comparison page and its exports."""
    _require_read(request.user)
    scheme = get_object_or_404(schemes_for(request.user), pk=pk)
    form = ComparisonForm(request.GET or None, initial={"level": DivisionLevel.COUNTY})
    if not form.is_bound:
        latest = (
            evaluations_for(request.user)
            .filter(scheme=scheme)
            .order_by("-period_end", "-period_start")
            .values("period_start", "period_end", "cooperative__division__level")
            .first()
        )
        if latest is not None:
            form = ComparisonForm(
                {
                    "period_start": latest["period_start"],
                    "period_end": latest["period_end"],
                    "level": latest["cooperative__division__level"],
                }
            )
    if not form.is_bound or not form.is_valid():
        _mark_invalid(form)
        return scheme, form, None
    data = form.cleaned_data
    result = comparison(request.user, scheme, data["period_start"], data["period_end"], data["level"])
    result.update(
        period_start=data["period_start"],
        last_day=last_day(data["period_end"]),
        level=DivisionLevel(data["level"]).label,
        query=urlencode(
            {
                "period_start": data["period_start"].isoformat(),
                "period_end": data["period_end"].isoformat(),
                "level": data["level"],
            }
        ),
    )
    return scheme, form, result


def performance_compare(request, pk):
    scheme, form, result = _comparison(request, pk)
    return render(
        request,
        "projects/performance/compare.html",
        {"scheme": scheme, "form": form, "result": result},
    )


def performance_compare_xlsx(request, pk):
    scheme, _form, result = _comparison(request, pk)
    if result is None:
        return performance_compare(request, pk)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("绩效评价对比")[:31])
    sheet.append([_("评价方案"), str(scheme)])
    sheet.append([_("评价期"), f"{result['period_start']} — {result['last_day']}"])
    sheet.append([_("合作社级别"), str(result["level"])])
    sheet.append([])
    header = [_("同级排名"), _("合作社"), _("区划代码")]
    for indicator in result["indicators"]:
        label = indicator.get_key_display()
        header += [
            _("%(label)s · 数值") % {"label": label},
            _("%(label)s · 得分（满分 %(weight)s）") % {"label": label, "weight": indicator.weight},
        ]
    sheet.append([*header, _("总分")])
    for row in result["rows"]:
        evaluation = row["evaluation"]
        cells = [evaluation.rank, evaluation.cooperative.name, evaluation.cooperative.division.code]
        for cell in row["cells"]:
            if cell is None:
                cells += [None, None]
                continue
            value = None if cell["value"] is None else Decimal(cell["value"])
            cells += [value, Decimal(cell["score"])]
        sheet.append([*cells, evaluation.total_score])
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="performance-{scheme.version}-{result["period_start"]:%Y%m%d}.xlsx"'
    )
    return response


def performance_compare_pdf(request, pk):
    scheme, _form, result = _comparison(request, pk)
    if result is None:
        return performance_compare(request, pk)
    content = render_pdf(
        "projects/performance/pdf/comparison.html",
        {"scheme": scheme, "result": result, "printed_at": timezone.localtime()},
    )
    return _pdf(content, f"performance-comparison-{scheme.pk}.pdf")


urlpatterns = [
    path("performance/", EvaluationListView.as_view(), name="performance-list"),
    path("performance/evaluate/", evaluate, name="performance-evaluate"),
    path("performance/<int:pk>/", performance_detail, name="performance-detail"),
    path("performance/<int:pk>/recompute/", performance_recompute, name="performance-recompute"),
    path("performance/<int:pk>/pdf/", performance_pdf, name="performance-pdf"),
    path("performance/schemes/", SchemeListView.as_view(), name="scheme-list"),
    path("performance/schemes/new/", scheme_create, name="scheme-create"),
    path("performance/schemes/<int:pk>/", scheme_detail, name="scheme-detail"),
    path("performance/schemes/<int:pk>/deactivate/", scheme_deactivate, name="scheme-deactivate"),
    path("performance/schemes/<int:pk>/compare/", performance_compare, name="performance-compare"),
    path(
        "performance/schemes/<int:pk>/compare/xlsx/",
        performance_compare_xlsx,
        name="performance-compare-xlsx",
    ),
    path(
        "performance/schemes/<int:pk>/compare/pdf/", performance_compare_pdf, name="performance-compare-pdf"
    ),
]
