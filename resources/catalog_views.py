"""The eco-product catalog (生态产品目录) pages: thin views over resources.selectors.catalog_for and
resources.catalog_services."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability, can
from directory.selectors import reach_prefixes
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from . import catalog_services
from .catalog import GEP_INDICATORS
from .filters import ResourceTypeFilter
from .forms import ResourceTypeForm
from .selectors import catalog_for


def _require_catalog_reader(user):
    if not reach_prefixes(user):
        raise PermissionDenied(_("生态产品目录仅供合作社和村集体工作人员查看。"))


class CatalogListView(ObjectListView):
    template_name = "resources/object_list.html"
    title = gettext_lazy("生态产品目录")
    filterset_class = ResourceTypeFilter
    export_name = "resource-catalog"
    default_sort = ("family", "code")
    columns = [
        Column(gettext_lazy("编码"), "code", sort="code", link=True),
        Column(gettext_lazy("名称"), "name", sort="name"),
        Column(gettext_lazy("类别"), "get_family_display", sort="family"),
        Column(gettext_lazy("计量单位"), "unit"),
        Column(gettext_lazy("须有空间范围"), "geometry_required", sort="geometry_required"),
        Column(gettext_lazy("空间互斥组"), "overlap_group", sort="overlap_group"),
        Column(gettext_lazy("GEP 指标"), "gep_indicators_display"),
        Column(gettext_lazy("资源数"), "asset_count", sort="asset_count"),
        Column(gettext_lazy("启用"), "is_active", sort="is_active"),
    ]

    def get(self, request):
        _require_catalog_reader(request.user)
        return super().get(request)

    def get_queryset(self):
        return catalog_for(self.request.user)

    def get_create_url(self):
        return (
            reverse("resources:catalog-create") if can(self.request.user, Capability.MANAGE_CATALOG) else None
        )


def catalog_detail(request, pk):
    _require_catalog_reader(request.user)
    resource_type = get_object_or_404(catalog_for(request.user), pk=pk)
    schema = resource_type.attribute_schema or {}
    required = set(schema.get("required") or [])
    attributes = [
        {
            "name": name,
            "title": spec.get("title", "") if isinstance(spec, dict) else "",
            "type": spec.get("type", "") if isinstance(spec, dict) else "",
            "enum": spec.get("enum") if isinstance(spec, dict) else None,
            "required": name in required,
        }
        for name, spec in (schema.get("properties") or {}).items()
    ]
    return render(
        request,
        "resources/catalog_detail.html",
        {
            "type": resource_type,
            "attributes": attributes,
            "indicators": [
                (key, GEP_INDICATORS.get(key, (None, key))[1]) for key in resource_type.gep_indicators
            ],
            "schema_json": json.dumps(schema, ensure_ascii=False, indent=2),
            "may_manage": can(request.user, Capability.MANAGE_CATALOG),
        },
    )


def _form_page(request, form, *, title, save, success, resource_type=None):
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, success % {"name": saved.name})
            return redirect(saved)
    return render(
        request,
        "resources/catalog_form.html",
        {"form": form, "title": title, "type": resource_type},
        status=400 if request.method == "POST" else 200,
    )


def catalog_create(request):
    if not can(request.user, Capability.MANAGE_CATALOG):
        raise PermissionDenied(_("您没有权限维护生态产品目录。"))
    return _form_page(
        request,
        ResourceTypeForm(request.POST or None),
        title=_("新增资源类型"),
        save=lambda data: catalog_services.create_resource_type(actor=request.user, **data),
        success=_("资源类型“%(name)s”已加入目录。"),
    )


def catalog_edit(request, pk):
    if not can(request.user, Capability.MANAGE_CATALOG):
        raise PermissionDenied(_("您没有权限维护生态产品目录。"))
    resource_type = get_object_or_404(catalog_for(request.user), pk=pk)
    form = ResourceTypeForm(
        request.POST or None, initial=ResourceTypeForm.initial_from(resource_type), editing=True
    )

    def save(data):
        data.pop("code", None)  # fixed once created
        return catalog_services.update_resource_type(actor=request.user, resource_type=resource_type, **data)

    return _form_page(
        request,
        form,
        title=_("修改资源类型：%(name)s") % {"name": resource_type.name},
        save=save,
        success=_("资源类型“%(name)s”已保存。"),
        resource_type=resource_type,
    )
