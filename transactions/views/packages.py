"""资源包 pages: list, create, detail (summary, assets, photos, map) and the staff actions."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from ..forms.packages import (
    AddAssetsForm,
    DissolveForm,
    PackageEditForm,
    PackageFilter,
    PackageForm,
    PhotoForm,
)
from ..models import PACKAGE_TRANSITIONS, PackagePhoto, PackageStatus
from ..selectors_packages import package_geometries, package_summary, packages_for
from ..services import packages as services
from .investors import trading_page


@method_decorator(trading_page, name="dispatch")
class PackageListView(ObjectListView):
    title = gettext_lazy("资源包")
    filterset_class = PackageFilter
    export_name = "packages"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("资源包编号"), "code", sort="code", link=True),
        Column(gettext_lazy("名称"), "name", sort="name"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("资源数"), "asset_count", sort="asset_count"),
        Column(gettext_lazy("建议用途"), "suggested_use"),
        Column(gettext_lazy("编制人"), "created_by"),
        Column(gettext_lazy("创建时间"), "created_at", sort="created_at"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return packages_for(self.request.user)

    def get_create_url(self):
        return (
            reverse("transactions:package-create")
            if can(self.request.user, Capability.MANAGE_TRADING)
            else None
        )


def _form_page(request, form, title, cancel):
    return render(
        request,
        "transactions/packages/form.html",
        {"form": form, "title": title, "cancel": cancel},
        status=400 if request.method == "POST" else 200,
    )


@trading_page
def package_create(request):
    if not can(request.user, Capability.MANAGE_TRADING):
        raise PermissionDenied(_("您没有权限编制资源包。"))
    form = PackageForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            package = services.create_package(actor=request.user, **form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("资源包已创建：%(code)s") % {"code": package.code})
            return redirect(package)
    return _form_page(request, form, _("编制资源包"), reverse("transactions:package-list"))


@trading_page
def package_edit(request, pk):
    package = get_object_or_404(packages_for(request.user), pk=pk)
    if not can(request.user, Capability.MANAGE_TRADING, division=package.division):
        raise PermissionDenied(_("您没有权限修改该资源包。"))
    initial = {f: getattr(package, f) for f in ("name", "suggested_use", "description")}
    form = PackageEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_package(actor=request.user, package=package, **form.cleaned_data)
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("资源包已保存。"))
            return redirect(package)
    return _form_page(request, form, _("修改资源包"), package.get_absolute_url())


@trading_page
def package_detail(request, pk):
    package = get_object_or_404(packages_for(request.user), pk=pk)
    may_manage = can(request.user, Capability.MANAGE_TRADING, division=package.division)
    status = PackageStatus(package.status)
    editable = may_manage and status in services.EDITABLE_STATUSES
    context = {
        "package": package,
        "summary": package_summary(package),
        "photos": list(package.photos.select_related("uploaded_by")),
        "features": {"type": "FeatureCollection", "features": package_geometries(package)},
        "may_manage": may_manage,
        "editable": editable,
        "may_ready": may_manage and status == PackageStatus.DRAFT,
        "may_draft": may_manage and status == PackageStatus.READY,
        "may_dissolve": may_manage and PackageStatus.DISSOLVED in PACKAGE_TRANSITIONS[status],
        "add_form": AddAssetsForm(user=request.user) if editable else None,
        "dissolve_form": DissolveForm() if may_manage else None,
        "photo_form": PhotoForm() if may_manage and status != PackageStatus.DISSOLVED else None,
    }
    return render(request, "transactions/packages/detail.html", context)


def _report_form_errors(request, form):
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))


@require_POST
@trading_page
def package_action(request, pk, action):
    package = get_object_or_404(packages_for(request.user), pk=pk)
    if action == "ready":
        run_service(
            request,
            lambda: services.mark_package_ready(actor=request.user, package=package),
            success=_("资源包已设为可挂牌。"),
        )
    elif action == "draft":
        run_service(
            request,
            lambda: services.return_package_to_draft(actor=request.user, package=package),
            success=_("资源包已退回编制。"),
        )
    elif action == "dissolve":
        form = DissolveForm(request.POST)
        if form.is_valid():
            run_service(
                request,
                lambda: services.dissolve_package(actor=request.user, package=package, **form.cleaned_data),
                success=_("资源包已解散。"),
            )
        else:
            _report_form_errors(request, form)
    elif action == "add-assets":
        form = AddAssetsForm(request.POST, user=request.user)
        if form.is_valid():
            run_service(
                request,
                lambda: services.add_package_assets(actor=request.user, package=package, **form.cleaned_data),
                success=_("资源已加入资源包。"),
            )
        else:
            _report_form_errors(request, form)
    elif action == "photos":
        form = PhotoForm(request.POST, request.FILES)
        if form.is_valid():
            run_service(
                request,
                lambda: services.add_package_photo(actor=request.user, package=package, **form.cleaned_data),
                success=_("照片已上传。"),
            )
        else:
            _report_form_errors(request, form)
    else:
        raise Http404
    return redirect(package)


@require_POST
@trading_page
def package_asset_remove(request, pk, asset_pk):
    package = get_object_or_404(packages_for(request.user), pk=pk)
    item = get_object_or_404(package.items.select_related("asset"), asset_id=asset_pk, is_open=True)
    run_service(
        request,
        lambda: services.remove_package_asset(actor=request.user, package=package, asset=item.asset),
        success=_("资源已移出资源包。"),
    )
    return redirect(package)


def _visible_photo(request, pk):
    return get_object_or_404(
        PackagePhoto.objects.filter(package__in=packages_for(request.user)).select_related("package"), pk=pk
    )


@trading_page
def package_photo(request, pk):
    """Photos are private media: served only to those who may see the package."""
    photo = _visible_photo(request, pk)
    response = FileResponse(photo.image.open("rb"))
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
@trading_page
def package_photo_remove(request, pk):
    photo = _visible_photo(request, pk)
    run_service(
        request,
        lambda: services.remove_package_photo(actor=request.user, photo=photo),
        success=_("照片已删除。"),
    )
    return redirect(photo.package)


urlpatterns = [
    path("packages/", PackageListView.as_view(), name="package-list"),
    path("packages/new/", package_create, name="package-create"),
    path("packages/<int:pk>/", package_detail, name="package-detail"),
    path("packages/<int:pk>/edit/", package_edit, name="package-edit"),
    path(
        "packages/<int:pk>/assets/<int:asset_pk>/remove/", package_asset_remove, name="package-asset-remove"
    ),
    path("packages/<int:pk>/<slug:action>/", package_action, name="package-action"),
    path("package-photos/<int:pk>/", package_photo, name="package-photo"),
    path("package-photos/<int:pk>/remove/", package_photo_remove, name="package-photo-remove"),
]
