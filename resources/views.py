"""Registry web pages: thin views over resources.selectors and resources.services."""

import json
import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from . import listings as listing_services
from . import registration as registration_services
from . import services, tiles
from .certificates import render_certificate_pdf
from .filters import AssetFilter, ListingFilter, RegistrationFilter
from .forms import (
    AcceptListingForm,
    AssetForm,
    DisputeFreezeForm,
    DocumentForm,
    EndRightForm,
    LeaseForm,
    ListingForm,
    ObservationForm,
    PledgeForm,
    ReleaseRestrictionForm,
    RightForm,
    TransitionForm,
    holder_choices,
    pledgee_choices,
)
from .models import (
    ASSET_TRANSITIONS,
    AssetStatus,
    ListingPhoto,
    Objection,
    Registration,
    RegistrationStatus,
    Restriction,
    Right,
    RightStatus,
)
from .selectors import assets_for, documents_for, history_of, listings_for, restrictions_of, rights_of

MAP_FEATURE_LIMIT = 2000
# Statuses a person sets by hand here; collected/listed/leased/pledged follow from contracts,
# listings, leases and pledges recorded by their own services.
MANUAL_STATUSES = {
    AssetStatus.DRAFT,
    AssetStatus.UNDER_REVIEW,
    AssetStatus.IN_PUBLIC_NOTICE,
    AssetStatus.REGISTERED,
    AssetStatus.RETIRED,
}


class AssetListView(ObjectListView):
    template_name = "resources/asset_list.html"
    title = gettext_lazy("资源资产")
    filterset_class = AssetFilter
    export_name = "assets"
    default_sort = ("code",)
    columns = [
        Column(gettext_lazy("资源编号"), "code", sort="code", link=True),
        Column(gettext_lazy("名称"), "name", sort="name"),
        Column(gettext_lazy("资源类型"), "resource_type.name", sort="resource_type__code"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("面积（m²）"), "area_m2", sort="area_m2"),
        Column(gettext_lazy("面积（亩）"), "area_mu"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return assets_for(self.request.user).defer("geometry")

    def get_create_url(self):
        return reverse("resources:asset-create") if can(self.request.user, Capability.DRAFT_ASSETS) else None

    def get_extra_context(self):
        return {"tile_url": settings.TMCS_MAP_TILE_URL}


def index(request):
    return AssetListView.as_view()(request)


def asset_map(request):
    """GeoJSON export of the visible assets, filtered like the list (the “导出 GeoJSON” button);
    the map itself draws vector tiles (asset_tile) and never loads this. An invalid filter exports
    nothing."""
    rows, _ = tiles.map_assets(request)
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(asset.geometry.geojson),
            "properties": {
                "code": asset.code,
                "name": asset.name,
                "status": asset.status,
                "status_label": asset.get_status_display(),
                "type": asset.resource_type.name,
                "url": asset.get_absolute_url(),
            },
        }
        for asset in rows.order_by("code")[:MAP_FEATURE_LIMIT]
    ]
    response = JsonResponse(
        {"type": "FeatureCollection", "features": features, "truncated": len(features) == MAP_FEATURE_LIMIT},
        content_type="application/geo+json",
    )
    response["Content-Disposition"] = 'attachment; filename="assets.geojson"'
    return response


def asset_map_extent(request):
    """Where the visible assets filtered like the list lie, so that the map opens on them without
    loading any feature: {"bbox": [west, south, east, north] or null, "count": n}."""
    rows, filterset = tiles.map_assets(request)
    if not filterset.is_valid():
        return JsonResponse(tiles.invalid_filter_error(filterset), status=400)
    bbox, count = tiles.extent_of(rows)
    response = JsonResponse({"bbox": list(bbox) if bbox else None, "count": count})
    response["Cache-Control"] = "private, max-age=60"
    patch_vary_headers(response, ["Cookie"])
    return response


def asset_create(request):
    if not can(request.user, Capability.DRAFT_ASSETS):
        raise PermissionDenied(_("您没有权限登记资源。"))
    form = AssetForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            asset = services.create_asset(actor=request.user, **form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            for name, messages_ in exc.fields.items():
                if name.startswith("attributes."):
                    form.add_error("attributes", messages_)
        else:
            messages.success(request, _("资源已登记为草稿：%(code)s") % {"code": asset.code})
            return redirect(asset)
    return render(
        request, "resources/asset_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


def asset_detail(request, pk):
    asset = get_object_or_404(assets_for(request.user), pk=pk)
    may_register = can(request.user, Capability.MANAGE_REGISTRY, division=asset.division)
    may_draft = can(request.user, Capability.DRAFT_ASSETS, division=asset.division)
    transitions = [
        status
        for status in AssetStatus
        if status in ASSET_TRANSITIONS[AssetStatus(asset.status)]
        and status in MANUAL_STATUSES
        and (may_register or (may_draft and status == AssetStatus.UNDER_REVIEW))
    ]
    # Read once, then derive what the page shows from them.
    registrations = list(asset.registrations.order_by("-submitted_at"))
    observations = list(asset.observations.select_related("recorded_by").order_by("observed_on", "pk"))
    restrictions = list(restrictions_of(asset))
    documents = list(asset.documents.select_related("uploaded_by").order_by("kind", "pk"))
    documents_removable = asset.status in services.REMOVABLE_DOCUMENT_STATUSES
    context = {
        "asset": asset,
        "rights": rights_of(asset),
        "restrictions": restrictions,
        "freeze": next(
            (r for r in restrictions if r.kind in services.FREEZE_KINDS and r.status == RightStatus.ACTIVE),
            None,
        ),
        "lease_form": LeaseForm(parties=holder_choices(request.user)) if may_register else None,
        "pledge_form": PledgeForm(asset=asset, parties=pledgee_choices(request.user))
        if may_register
        else None,
        "freeze_form": DisputeFreezeForm() if may_register else None,
        "photos": [d for d in documents if d.is_image],
        "documents": documents,
        "documents_removable": documents_removable and may_draft,
        "document_form": DocumentForm() if (may_draft if documents_removable else may_register) else None,
        "history": history_of(asset)[:100],
        "transitions": transitions,
        "may_register": may_register,
        "right_form": RightForm(parties=holder_choices(request.user)) if may_register else None,
        "end_form": EndRightForm(),
        "registrations": registrations,
        "may_apply": may_draft
        and asset.status in (AssetStatus.DRAFT, AssetStatus.UNDER_REVIEW)
        and not any(
            r.status in (RegistrationStatus.SUBMITTED, RegistrationStatus.IN_PUBLIC_NOTICE)
            for r in registrations
        ),
        "attribute_titles": (asset.resource_type.attribute_schema or {}).get("properties", {}),
        "observations": observations,
        "observation_series": [
            [o.observed_on.isoformat(), float(o.quantity)] for o in observations if o.quantity is not None
        ],
        "observation_form": ObservationForm() if may_register else None,
    }
    return render(request, "resources/asset_detail.html", context)


@require_POST
def asset_transition(request, pk):
    asset = get_object_or_404(assets_for(request.user), pk=pk)
    form = TransitionForm(request.POST)
    if form.is_valid() and form.cleaned_data["to_status"] in AssetStatus.values:
        run_service(
            request,
            lambda: services.transition_asset(actor=request.user, asset=asset, **form.cleaned_data),
            success=_("状态已更新。"),
        )
    return redirect(asset)


@require_POST
def right_create(request, pk):
    asset = get_object_or_404(assets_for(request.user), pk=pk)
    form = RightForm(request.POST, parties=holder_choices(request.user))
    if form.is_valid():
        run_service(
            request,
            lambda: services.grant_right(actor=request.user, asset=asset, **form.cleaned_data),
            success=_("权利已登记。"),
        )
    else:
        errors = "; ".join(
            f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items() if k in form.fields
        )
        messages.error(request, _("权利信息有误：%(errors)s") % {"errors": errors})
    return redirect(asset)


@require_POST
def right_end(request, pk):
    right = get_object_or_404(Right.objects.filter(asset__in=assets_for(request.user)), pk=pk)
    form = EndRightForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写终止原因。"))
    else:
        run_service(
            request,
            lambda: services.end_right(actor=request.user, right=right, **form.cleaned_data),
            success=_("权利已终止。"),
        )
    return redirect(right.asset)


# --- restrictions: leases, pledges/mortgages, dispute freezes ---------------------------------


def _report_form_errors(request, form):
    errors = "; ".join(
        f"{form.fields[k].label}: {' '.join(v)}" if k in form.fields else " ".join(v)
        for k, v in form.errors.items()
    )
    messages.error(request, _("提交的数据有误：%(errors)s") % {"errors": errors})


def _asset_form_post(request, pk, make_form, action, success):
    """POST a small form from the asset page to a service; errors come back as a message."""
    asset = get_object_or_404(assets_for(request.user), pk=pk)
    form = make_form(asset)
    if form.is_valid():
        run_service(request, lambda: action(asset, form.cleaned_data), success=success)
    else:
        _report_form_errors(request, form)
    return redirect(asset)


@require_POST
def lease_create(request, pk):
    return _asset_form_post(
        request,
        pk,
        lambda asset: LeaseForm(request.POST, parties=holder_choices(request.user)),
        lambda asset, data: services.add_lease(actor=request.user, asset=asset, **data),
        _("租赁已登记。"),
    )


@require_POST
def pledge_create(request, pk):
    return _asset_form_post(
        request,
        pk,
        lambda asset: PledgeForm(request.POST, asset=asset, parties=pledgee_choices(request.user)),
        lambda asset, data: services.add_pledge(actor=request.user, **data),
        _("抵质押已登记。"),
    )


@require_POST
def freeze_create(request, pk):
    return _asset_form_post(
        request,
        pk,
        lambda asset: DisputeFreezeForm(request.POST),
        lambda asset, data: services.freeze_for_dispute(actor=request.user, asset=asset, **data),
        _("已设立争议冻结。"),
    )


@require_POST
def restriction_release(request, pk):
    restriction = get_object_or_404(
        Restriction.objects.filter(asset__in=assets_for(request.user)).select_related("asset"), pk=pk
    )
    form = ReleaseRestrictionForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: services.release_restriction(
                actor=request.user, restriction=restriction, **form.cleaned_data
            ),
            success=_("已解除%(kind)s。") % {"kind": restriction.get_kind_display()},
        )
    else:
        messages.error(request, _("请填写解除原因。"))
    return redirect(restriction.asset)


# --- registration (确权登记) ------------------------------------------------------------------


class RegistrationListView(ObjectListView):
    template_name = "resources/object_list.html"
    title = gettext_lazy("确权登记")
    filterset_class = RegistrationFilter
    export_name = "registrations"
    default_sort = ("-submitted_at",)
    columns = [
        Column(gettext_lazy("资源编号"), "asset.code", sort="asset__code", link=True),
        Column(gettext_lazy("名称"), "asset.name"),
        Column(gettext_lazy("申请人"), "applicant"),
        Column(gettext_lazy("申请时间"), "submitted_at", sort="submitted_at"),
        Column(gettext_lazy("公示结束"), "notice_ends_at", sort="notice_ends_at"),
        Column(gettext_lazy("登记证明编号"), "certificate_number"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return Registration.objects.filter(asset__in=assets_for(self.request.user)).select_related(
            "asset", "applicant"
        )


@require_POST
def registration_submit(request, pk):
    asset = get_object_or_404(assets_for(request.user), pk=pk)
    registration = run_service(
        request,
        lambda: registration_services.submit_registration(actor=request.user, asset=asset),
        success=_("已提交确权登记申请。"),
    )
    return redirect(registration or asset)


def registration_detail(request, pk):
    registration = get_object_or_404(
        Registration.objects.filter(asset__in=assets_for(request.user)).select_related("asset__division"),
        pk=pk,
    )
    return render(
        request,
        "resources/registration_detail.html",
        {
            "registration": registration,
            "objections": registration.objections.select_related("resolved_by"),
            "may_review": can(request.user, Capability.MANAGE_REGISTRY, division=registration.asset.division),
        },
    )


@require_POST
def registration_review(request, pk):
    registration = get_object_or_404(Registration.objects.filter(asset__in=assets_for(request.user)), pk=pk)
    run_service(
        request,
        lambda: registration_services.review_registration(
            actor=request.user,
            registration=registration,
            approve=request.POST.get("decision") == "approve",
            note=request.POST.get("note", ""),
        ),
        success=_("审核结果已保存。"),
    )
    return redirect(registration)


@require_POST
def objection_resolve(request, pk):
    objection = get_object_or_404(
        Objection.objects.filter(registration__asset__in=assets_for(request.user)), pk=pk
    )
    run_service(
        request,
        lambda: registration_services.resolve_objection(
            actor=request.user,
            objection=objection,
            upheld=request.POST.get("decision") == "uphold",
            resolution=request.POST.get("resolution", ""),
        ),
        success=_("异议处理结果已保存。"),
    )
    return redirect(objection.registration)


def registration_certificate(request, pk):
    registration = get_object_or_404(
        Registration.objects.filter(asset__in=assets_for(request.user), status=RegistrationStatus.REGISTERED),
        pk=pk,
    )
    response = HttpResponse(render_certificate_pdf(registration), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{registration.asset.code}.pdf"'
    return response


# --- idle-asset listings (闲置资产挂出) ----------------------------------------------------------


class ListingListView(ObjectListView):
    template_name = "resources/object_list.html"
    title = gettext_lazy("闲置资产挂出")
    filterset_class = ListingFilter
    export_name = "idle-asset-listings"
    default_sort = ("-created_at",)
    columns = [
        Column(gettext_lazy("标题"), "title", sort="title", link=True),
        Column(gettext_lazy("村集体"), "collective.name", sort="collective__name"),
        Column(gettext_lazy("资源类型"), "resource_type.name"),
        Column(gettext_lazy("意向方式"), "get_expected_use_display", sort="expected_use"),
        Column(gettext_lazy("期望价格（元）"), "expected_price", sort="expected_price"),
        Column(gettext_lazy("提交时间"), "created_at", sort="created_at"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return listings_for(self.request.user)

    def get_create_url(self):
        is_clerk = any(m.role == "village_clerk" for m in self.request.user.active_memberships)
        return reverse("resources:listing-create") if is_clerk else None


def listing_create(request):
    form = ListingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        listing = run_service(
            request,
            lambda: listing_services.create_listing(actor=request.user, **data),
            success=_("已挂出，等待合作社审核。"),
        )
        if listing:
            return redirect(listing)
    return render(
        request,
        "resources/listing_form.html",
        {"form": form, "title": _("挂出闲置资产")},
        status=400 if request.method == "POST" else 200,
    )


def listing_detail(request, pk):
    listing = get_object_or_404(listings_for(request.user), pk=pk)
    may_review = can(request.user, Capability.MANAGE_REGISTRY, division=listing.collective.division)
    is_owner = any(m.organization_id == listing.collective_id for m in request.user.active_memberships)
    initial = {
        f: getattr(listing, f)
        for f in (
            "resource_type",
            "title",
            "description",
            "location",
            "area_estimate_m2",
            "expected_use",
            "expected_price",
            "price_note",
        )
    }
    return render(
        request,
        "resources/listing_detail.html",
        {
            "listing": listing,
            "photos": listing.photos.all(),
            "may_review": may_review and listing.status in ("submitted",),
            "may_resubmit": is_owner and listing.status == "info_requested",
            "resubmit_form": ListingForm(initial=initial),
            "accept_form": AcceptListingForm(
                assets=assets_for(request.user).filter(division=listing.collective.division)
            ),
        },
    )


@require_POST
def listing_action(request, pk, action):
    listing = get_object_or_404(listings_for(request.user), pk=pk)
    note = request.POST.get("note", "")
    if action == "request-info":
        run_service(
            request,
            lambda: listing_services.request_information(actor=request.user, listing=listing, note=note),
            success=_("已请村集体补充材料。"),
        )
    elif action == "decline":
        run_service(
            request,
            lambda: listing_services.decline_listing(actor=request.user, listing=listing, note=note),
            success=_("已回复不予收储。"),
        )
    elif action == "accept":
        form = AcceptListingForm(
            request.POST, assets=assets_for(request.user).filter(division=listing.collective.division)
        )
        if form.is_valid():
            run_service(
                request,
                lambda: listing_services.accept_listing(
                    actor=request.user, listing=listing, **form.cleaned_data
                ),
                success=_("已纳入资源池。"),
            )
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    elif action == "resubmit":
        form = ListingForm(request.POST, request.FILES)
        if form.is_valid():
            run_service(
                request,
                lambda: listing_services.resubmit_listing(
                    actor=request.user, listing=listing, **form.cleaned_data
                ),
                success=_("已补充材料并重新提交。"),
            )
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        raise Http404
    return redirect(listing)


def listing_photo(request, pk):
    """Photos are private media: served only to those who may see the listing."""
    photo = get_object_or_404(ListingPhoto.objects.filter(listing__in=listings_for(request.user)), pk=pk)
    return FileResponse(photo.image.open("rb"))


def asset_tile(request, z, x, y):
    """Vector tile (MVT) of the visible assets, filtered by the querystring like the list; cached
    privately by the browser for a minute."""
    rows, filterset = tiles.map_assets(request)
    if not filterset.is_valid():
        return JsonResponse(tiles.invalid_filter_error(filterset), status=400)
    tile = tiles.tile_for(request.user, z, x, y, queryset=rows)
    if tile is None:
        raise Http404
    response = HttpResponse(tile, content_type="application/vnd.mapbox-vector-tile")
    response["Cache-Control"] = "private, max-age=60"
    patch_vary_headers(response, ["Cookie"])  # what a user sees depends on who they are
    return response


@require_POST
def observation_create(request, pk):
    asset = get_object_or_404(assets_for(request.user), pk=pk)
    form = ObservationForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: services.record_observation(actor=request.user, asset=asset, **form.cleaned_data),
            success=_("监测记录已保存。"),
        )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(asset)


# --- photos and documents -------------------------------------------------------------------


@require_POST
def document_upload(request, pk):
    asset = get_object_or_404(assets_for(request.user), pk=pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        run_service(
            request,
            lambda: services.attach_document(actor=request.user, asset=asset, **form.cleaned_data),
            success=_("资料已上传。"),
        )
    else:
        _report_form_errors(request, form)
    return redirect(asset)


def document_download(request, pk, variant="file"):
    """Private media: served only to those who may see the asset, never from a public URL."""
    document = get_object_or_404(documents_for(request.user).select_related("asset"), pk=pk)
    stored = document.thumbnail if variant == "thumbnail" else document.file
    if not stored:
        raise Http404
    extension = stored.name.rsplit(".", 1)[-1]
    response = FileResponse(
        stored.open("rb"),
        content_type="image/jpeg" if variant == "thumbnail" else document.content_type,
        as_attachment=not document.is_image,  # PDFs are saved, not opened inside our origin
        filename=re.sub(r'[\x00-\x1f"/\\]', "_", f"{document.asset.code}-{document.title}.{extension}"),
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
def document_remove(request, pk):
    document = get_object_or_404(documents_for(request.user).select_related("asset"), pk=pk)
    run_service(
        request,
        lambda: services.remove_document(actor=request.user, document=document),
        success=_("资料已删除。"),
    )
    return redirect(document.asset)
