"""The registry in Django's admin: for looking, not for writing. Every write goes through
resources.services, resources.catalog_services and resources.registration, which validate, lock
and audit; a registered right or restriction is never edited or deleted (DESIGN.md §3, invariant 4).
Geometry is left out: GeoDjango's admin map widget loads OpenLayers from a CDN."""

from django.contrib import admin

from .models import (
    Asset,
    AssetDocument,
    AssetObservation,
    IdleAssetListing,
    Objection,
    Registration,
    ResourceType,
    Restriction,
    Right,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ResourceType)
class ResourceTypeAdmin(ReadOnlyAdmin):
    """Edited on the catalog pages (/resources/catalog/), which keep the types' assets valid."""

    list_display = ("code", "name", "family", "unit", "geometry_required", "overlap_group", "is_active")
    list_filter = ("family", "geometry_required", "is_active")
    search_fields = ("code", "name")


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "resource_type", "division", "area_m2", "status", "created_at")
    list_filter = ("status", "resource_type")
    search_fields = ("code", "name")
    list_select_related = ("resource_type", "division")
    exclude = ("geometry",)


@admin.register(Right)
class RightAdmin(ReadOnlyAdmin):
    list_display = ("asset", "kind", "holder", "share_display", "period", "certificate_number", "status")
    list_filter = ("kind", "status")
    search_fields = ("asset__code", "certificate_number", "source_document")
    list_select_related = ("asset", "holder__person", "holder__organization")


@admin.register(Restriction)
class RestrictionAdmin(ReadOnlyAdmin):
    list_display = ("asset", "kind", "holder", "rank", "secured_amount", "period", "status")
    list_filter = ("kind", "status")
    search_fields = ("asset__code", "source_document")
    list_select_related = ("asset", "holder__person", "holder__organization")


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ("asset", "status", "submitted_at", "notice_ends_at", "certificate_number")
    list_filter = ("status",)
    search_fields = ("asset__code", "certificate_number", "verification_code")
    list_select_related = ("asset",)


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("registration", "objector_name", "contact_phone_masked", "status", "lodged_at")
    list_filter = ("status",)
    exclude = ("contact_phone_ciphertext",)


@admin.register(IdleAssetListing)
class IdleAssetListingAdmin(ReadOnlyAdmin):
    list_display = ("title", "collective", "resource_type", "expected_use", "status", "created_at")
    list_filter = ("status", "expected_use")
    search_fields = ("title",)


@admin.register(AssetObservation)
class AssetObservationAdmin(ReadOnlyAdmin):
    list_display = ("asset", "observed_on", "quantity", "quality_grade", "source")
    search_fields = ("asset__code", "source")


@admin.register(AssetDocument)
class AssetDocumentAdmin(ReadOnlyAdmin):
    """Files are served by the registry's own view, which checks who may see the asset."""

    list_display = ("asset", "kind", "title", "content_type", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind",)
    search_fields = ("asset__code", "title", "sha256")
    exclude = ("file", "thumbnail")
