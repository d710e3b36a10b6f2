"""Key project pages: the list (filter, sort, XLSX), detail (links, GEP check, criteria, reviews,
evaluations, GEP entries, history), forms (create/edit, review, evaluation, exit, withdraw,
showcase), the admission criteria (list, detail, draft, edit, publish) and, without login, the
investment-promotion showcase and the published criteria (mounted at /showcase/)."""

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from ..forms_projects import (
    CriteriaFilter,
    CriteriaSetForm,
    EvaluationForm,
    ExitForm,
    ProjectFilter,
    ProjectForm,
    ReviewForm,
    ShowcaseFilter,
    ShowcaseForm,
    WithdrawForm,
    criteria_formset,
    criteria_rows,
)
from ..models import CriteriaSet, CriteriaStatus, CriterionCheck, ProjectStatus
from ..selectors_projects import (
    asset_points,
    county_names,
    criteria_sets,
    project_centroids,
    project_evaluations,
    project_gep_entries,
    project_history,
    project_links,
    project_reviews,
    projects_for,
    published_criteria,
    showcase_project,
    showcase_projects,
)
from ..services import projects as services


def _form_page(request, form, title, action, *, back, template="projects/projects/form.html", **extra):
    """Run `action(form)` on a valid POST; a refusal's field errors go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            _show_service_errors(request, form, exc)
    return render(request, template, {"form": form, "title": title, "back": back, **extra})


def _show_service_errors(request, form, exc):
    """A service's refusal: its field errors in place (fields marked invalid), its message on top."""
    form.add_service_errors(exc)
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
    messages.error(request, str(exc.detail))


def _project(request, pk):
    return get_object_or_404(projects_for(request.user).defer(None).defer("division__boundary"), pk=pk)


def _is_preparer(user, project):
    """The creator or the submitter of a project under review (they may not review it)."""
    return user.pk in (project.created_by_id, services.submitter_of(project).pk)


# --- list and detail ------------------------------------------------------------------------------


class ProjectListView(ObjectListView):
    template_name = "projects/projects/list.html"
    title = gettext_lazy("重点项目清单")
    filterset_class = ProjectFilter
    export_name = "key-projects"
    default_sort = ("-pk",)
    columns = [
        Column(gettext_lazy("项目编号"), "number", sort="number", link=True),
        Column(gettext_lazy("项目名称"), "name", sort="name"),
        Column(gettext_lazy("项目类型"), "get_category_display", sort="category"),
        Column(gettext_lazy("项目业主"), "owner.name", sort="owner__name"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("计划总投资（元）"), "total_investment", sort="total_investment"),
        Column(gettext_lazy("社会资本（元）"), "social_capital", sort="social_capital"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("入库日期"), "admitted_on", sort="admitted_on"),
        Column(gettext_lazy("招商展示"), "showcase", sort="showcase"),
    ]

    def get_queryset(self):
        return projects_for(self.request.user)

    def get_create_url(self):
        user = self.request.user
        if can(user, Capability.MANAGE_PROJECTS) or can(user, Capability.APPLY_PROJECTS):
            return reverse("projects:project-create")
        return None


def project_list(request):
    return ProjectListView.as_view()(request)


def _criteria_preview(project):
    """Live criteria results while the project is being prepared or reviewed."""
    criteria_set = project.criteria_set if project.status != ProjectStatus.DRAFT else None
    criteria_set = criteria_set or services.published_criteria_set()
    if criteria_set is None:
        return None, []
    return criteria_set, services.evaluate_criteria(project, criteria_set)


def project_detail(request, pk):
    project = _project(request, pk)
    user = request.user
    open_ = project.status in (ProjectStatus.DRAFT, ProjectStatus.SUBMITTED)
    preview = services.gep_preview(project) if open_ else None
    criteria_set, results = _criteria_preview(project) if open_ else (project.criteria_set, [])
    staff = services.may_manage(user, project)
    owner = services.is_owner_member(user, project)
    submitted = project.status == ProjectStatus.SUBMITTED
    is_preparer = submitted and _is_preparer(user, project)
    return render(
        request,
        "projects/projects/detail.html",
        {
            "project": project,
            **project_links(project),
            "preview": preview,
            "shortfall": Decimal(preview.get("shortfall", "0"))
            if preview and "shortfall" in preview
            else None,
            "criteria_set": criteria_set,
            "results": results,
            "reviews": project_reviews(project),
            "evaluations": project_evaluations(project),
            "gep_entries": project_gep_entries(project),
            "history": project_history(project)[:50],
            "may_edit": services.may_edit(user, project),
            "may_submit": project.status == ProjectStatus.DRAFT and services.may_prepare(user, project),
            "may_review": submitted and staff and not is_preparer,
            "is_preparer": is_preparer and staff,
            "may_evaluate": project.status == ProjectStatus.ADMITTED and staff,
            "may_exit": project.status == ProjectStatus.ADMITTED and (staff or owner),
            "may_withdraw": open_ and (project.created_by_id == user.pk or owner),
            "may_showcase": project.status == ProjectStatus.ADMITTED and (staff or owner),
            "public_url": reverse("projects-public:showcase-detail", args=[project.pk])
            if project.showcase
            else "",
        },
    )


# --- forms ----------------------------------------------------------------------------------------


def project_create(request):
    if not (can(request.user, Capability.MANAGE_PROJECTS) or can(request.user, Capability.APPLY_PROJECTS)):
        raise PermissionDenied
    form = ProjectForm(request.POST or None, user=request.user)

    def create(form):
        data = form.cleaned_data
        project = services.create_project(actor=request.user, owner=data["owner"], **form.service_values())
        messages.success(request, _("重点项目已填报：%(number)s") % {"number": project.number})
        return redirect(project)

    return _form_page(request, form, _("填报重点项目"), create, back=reverse("projects:project-list"))


def project_edit(request, pk):
    project = _project(request, pk)
    if not services.may_edit(request.user, project):
        raise PermissionDenied
    form = ProjectForm(request.POST or None, user=request.user, project=project)

    def save(form):
        services.update_project(actor=request.user, project=project, **form.service_values())
        messages.success(request, _("已保存。"))
        return redirect(project)

    return _form_page(
        request,
        form,
        _("修改重点项目：%(number)s") % {"number": project.number},
        save,
        back=project.get_absolute_url(),
    )


@require_POST
def project_submit(request, pk):
    project = _project(request, pk)
    run_service(
        request,
        lambda: services.submit_project(actor=request.user, project=project),
        success=_("已提交审核，将由合作社另一位工作人员审核。"),
    )
    return redirect(project)


def _manual_criteria(criteria_set, *, evaluation=False):
    if criteria_set is None:
        return []
    criteria = criteria_set.criteria.filter(method=CriterionCheck.MANUAL).order_by("order", "pk")
    return list(criteria.filter(applies_to_evaluation=True) if evaluation else criteria)


def project_review(request, pk):
    project = _project(request, pk)
    if (
        not services.may_manage(request.user, project)
        or project.status != ProjectStatus.SUBMITTED
        or _is_preparer(request.user, project)
    ):
        raise PermissionDenied
    form = ReviewForm(request.POST or None, manual_criteria=_manual_criteria(project.criteria_set))

    def review(form):
        data = form.cleaned_data
        services.review_project(
            actor=request.user,
            project=project,
            decision=data["decision"],
            note=data["note"],
            manual=form.manual(),
        )
        messages.success(request, _("审核结论已记录。"))
        return redirect(project)

    preview = services.gep_preview(project)
    return _form_page(
        request,
        form,
        _("入库审核：%(number)s %(name)s") % {"number": project.number, "name": project.name},
        review,
        back=project.get_absolute_url(),
        template="projects/projects/review.html",
        project=project,
        preview=preview,
        results=services.evaluate_criteria(project, project.criteria_set) if project.criteria_set else [],
    )


def project_evaluate(request, pk):
    project = _project(request, pk)
    if not services.may_manage(request.user, project) or project.status != ProjectStatus.ADMITTED:
        raise PermissionDenied
    form = EvaluationForm(
        request.POST or None, manual_criteria=_manual_criteria(project.criteria_set, evaluation=True)
    )

    def evaluate(form):
        data = dict(form.cleaned_data)
        values = {key: data[key] for key in EVALUATION_FIELDS}
        services.evaluate_project(actor=request.user, project=project, manual=form.manual(), **values)
        messages.success(request, _("定期评价已记录。"))
        return redirect(project)

    return _form_page(
        request,
        form,
        _("定期评价：%(number)s %(name)s") % {"number": project.number, "name": project.name},
        evaluate,
        back=project.get_absolute_url(),
        template="projects/projects/review.html",
        project=project,
        evaluating=True,
    )


EVALUATION_FIELDS = (
    "period_start",
    "period_end",
    "investment_to_date",
    "progress_note",
    "jobs_created",
    "outcome",
    "note",
)


def project_exit(request, pk):
    project = _project(request, pk)
    staff = services.may_manage(request.user, project)
    if project.status != ProjectStatus.ADMITTED or not (
        staff or services.is_owner_member(request.user, project)
    ):
        raise PermissionDenied
    form = ExitForm(request.POST or None, owner_only=not staff)

    def exit_(form):
        services.exit_project(actor=request.user, project=project, **form.cleaned_data)
        messages.success(request, _("项目已退库。"))
        return redirect(project)

    return _form_page(
        request,
        form,
        _("项目退库：%(number)s %(name)s") % {"number": project.number, "name": project.name},
        exit_,
        back=project.get_absolute_url(),
        exit_rules=True,
    )


def project_withdraw(request, pk):
    project = _project(request, pk)
    may_withdraw = project.created_by_id == request.user.pk or services.is_owner_member(request.user, project)
    if project.status not in (ProjectStatus.DRAFT, ProjectStatus.SUBMITTED) or not may_withdraw:
        raise PermissionDenied

    def withdraw(form):
        services.withdraw_project(actor=request.user, project=project, reason=form.cleaned_data["reason"])
        messages.success(request, _("项目已撤回。"))
        return redirect(project)

    return _form_page(
        request,
        WithdrawForm(request.POST or None),
        _("撤回项目：%(number)s %(name)s") % {"number": project.number, "name": project.name},
        withdraw,
        back=project.get_absolute_url(),
    )


def project_showcase(request, pk):
    project = _project(request, pk)
    may_set = services.may_manage(request.user, project) or services.is_owner_member(request.user, project)
    if project.status != ProjectStatus.ADMITTED or not may_set:
        raise PermissionDenied
    initial = {"showcase": project.showcase or request.method == "GET", "contact": project.showcase_contact}
    form = ShowcaseForm(request.POST or None, initial=initial)

    def save(form):
        data = form.cleaned_data
        services.set_showcase(
            actor=request.user, project=project, showcase=data["showcase"], contact=data["contact"]
        )
        messages.success(request, _("招商展示设置已保存。") if data["showcase"] else _("已取消招商展示。"))
        return redirect(project)

    return _form_page(
        request,
        form,
        _("招商展示：%(number)s %(name)s") % {"number": project.number, "name": project.name},
        save,
        back=project.get_absolute_url(),
    )


# --- criteria -------------------------------------------------------------------------------------


def _may_set_criteria(user):
    return can(user, Capability.MANAGE_OVERSIGHT)


class CriteriaListView(ObjectListView):
    template_name = "projects/projects/list.html"
    title = gettext_lazy("重点项目准入标准")
    export_name = "project-criteria"
    default_sort = ("-published_at", "-pk")
    columns = [
        Column(gettext_lazy("名称"), "name", sort="name", link=True),
        Column(gettext_lazy("版本"), "version", sort="version"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("发布时间"), "published_at", sort="published_at"),
        Column(gettext_lazy("依据"), "source"),
    ]

    filterset_class = CriteriaFilter

    def get_queryset(self):
        return criteria_sets()

    def get_create_url(self):
        return reverse("projects:criteria-create") if _may_set_criteria(self.request.user) else None


def criteria_list(request):
    return CriteriaListView.as_view()(request)


def criteria_detail(request, pk):
    criteria_set = get_object_or_404(criteria_sets(), pk=pk)
    return render(
        request,
        "projects/projects/criteria_detail.html",
        {
            "criteria_set": criteria_set,
            "may_edit": _may_set_criteria(request.user) and criteria_set.status == CriteriaStatus.DRAFT,
        },
    )


def _criteria_page(request, title, action, *, criteria_set=None):
    if not _may_set_criteria(request.user):
        raise PermissionDenied
    initial = (
        {"name": criteria_set.name, "version": criteria_set.version, "source": criteria_set.source}
        if criteria_set
        else None
    )
    form = CriteriaSetForm(request.POST or None, initial=initial)
    formset = criteria_formset(request.POST or None, criteria_set)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = action(form.cleaned_data, criteria_rows(formset))
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            _show_service_errors(request, form, exc)
        else:
            messages.success(request, _("准入标准已保存（草稿）。"))
            return redirect("projects:criteria-detail", saved.pk)
    back = (
        reverse("projects:criteria-detail", args=[criteria_set.pk])
        if criteria_set
        else reverse("projects:criteria-list")
    )
    return render(
        request,
        "projects/projects/criteria_form.html",
        {"form": form, "formset": formset, "title": title, "back": back},
    )


def criteria_create(request):
    return _criteria_page(
        request,
        _("新建准入标准"),
        lambda data, rows: services.create_criteria_set(actor=request.user, criteria=rows, **data),
    )


def criteria_edit(request, pk):
    criteria_set = get_object_or_404(CriteriaSet, pk=pk)
    if criteria_set.status != CriteriaStatus.DRAFT:
        raise PermissionDenied
    return _criteria_page(
        request,
        _("修改准入标准：%(name)s") % {"name": criteria_set},
        lambda data, rows: services.update_criteria_set(
            actor=request.user, criteria_set=criteria_set, criteria=rows, **data
        ),
        criteria_set=criteria_set,
    )


@require_POST
def criteria_publish(request, pk):
    criteria_set = get_object_or_404(CriteriaSet, pk=pk)
    run_service(
        request,
        lambda: services.publish_criteria_set(actor=request.user, criteria_set=criteria_set),
        success=_("准入标准已发布，原标准同时废止。"),
    )
    return redirect("projects:criteria-detail", criteria_set.pk)


# --- public showcase --------------------------------------------------------------------------------


class ShowcaseListView(ObjectListView):
    template_name = "projects/projects/showcase_list.html"
    title = gettext_lazy("重点项目招商推介")
    filterset_class = ShowcaseFilter
    export_name = "showcase"
    paginate_by = 12
    default_sort = ("-admitted_on", "-pk")
    columns = [
        Column(gettext_lazy("项目编号"), "number"),
        Column(gettext_lazy("项目名称"), "name"),
        Column(gettext_lazy("项目类型"), "get_category_display", sort="category"),
        Column(gettext_lazy("所在区划"), "division.name"),
        Column(gettext_lazy("项目简介"), "summary"),
        Column(gettext_lazy("计划总投资（元）"), "total_investment", sort="total_investment"),
        Column(gettext_lazy("拟引入社会资本（元）"), "social_capital", sort="social_capital"),
        Column(gettext_lazy("预期 GEP 增量（元/年）"), "expected_gep_gain", sort="expected_gep_gain"),
        Column(gettext_lazy("入库日期"), "admitted_on", sort="admitted_on"),
        Column(gettext_lazy("招商联系方式"), "showcase_contact"),
    ]

    def get_queryset(self):
        return showcase_projects()

    def get_extra_context(self):
        shown = self.shown
        counties = county_names([p.division for p in shown])
        for project in shown:  # the same objects as the rows being rendered
            project.county_name = counties[project.division.code]
        points = project_centroids([p.pk for p in shown])
        features = []
        for project in shown:
            if project.pk not in points:
                continue
            x, y = points[project.pk]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
                    "properties": {
                        "name": project.name,
                        "category": project.get_category_display(),
                        "url": reverse("projects-public:showcase-detail", args=[project.pk]),
                    },
                }
            )
        return {
            "geojson": {"type": "FeatureCollection", "features": features},
            "tile_url": settings.TMCS_MAP_TILE_URL,
        }


def showcase_detail(request, pk):
    project = showcase_project(pk)
    if project is None:
        raise Http404(_("没有该推介项目。"))
    points = asset_points(project)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
            "properties": {"name": project.name},  # labels the point; no asset codes or names
        }
        for x, y in points
    ]
    return render(
        request,
        "projects/projects/showcase_detail.html",
        {
            "project": project,
            "county": county_names([project.division])[project.division.code],
            "geojson": {"type": "FeatureCollection", "features": features},
            "tile_url": settings.TMCS_MAP_TILE_URL,
        },
    )


def public_criteria(request):
    return render(request, "projects/projects/public_criteria.html", {"criteria_set": published_criteria()})


urlpatterns = [
    path("key-projects/", project_list, name="project-list"),
    path("key-projects/new/", project_create, name="project-create"),
    path("key-projects/<int:pk>/", project_detail, name="project-detail"),
    path("key-projects/<int:pk>/edit/", project_edit, name="project-edit"),
    path("key-projects/<int:pk>/submit/", project_submit, name="project-submit"),
    path("key-projects/<int:pk>/review/", project_review, name="project-review"),
    path("key-projects/<int:pk>/evaluate/", project_evaluate, name="project-evaluate"),
    path("key-projects/<int:pk>/exit/", project_exit, name="project-exit"),
    path("key-projects/<int:pk>/withdraw/", project_withdraw, name="project-withdraw"),
    path("key-projects/<int:pk>/showcase/", project_showcase, name="project-showcase"),
    path("criteria/", criteria_list, name="criteria-list"),
    path("criteria/new/", criteria_create, name="criteria-create"),
    path("criteria/<int:pk>/", criteria_detail, name="criteria-detail"),
    path("criteria/<int:pk>/edit/", criteria_edit, name="criteria-edit"),
    path("criteria/<int:pk>/publish/", criteria_publish, name="criteria-publish"),
]

# Mounted at /showcase/ in the `projects-public` namespace: no login, no personal data.
public_urlpatterns = [
    path("", login_not_required(ShowcaseListView.as_view()), name="showcase-list"),
    path("<int:pk>/", login_not_required(showcase_detail), name="showcase-detail"),
    path("criteria/", login_not_required(public_criteria), name="criteria"),
]
