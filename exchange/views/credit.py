"""Credit consent and credit export pages.

Staff (MANAGE_CONSENTS): the consent list (filters, XLSX), a consent's detail with its revocation
form, history and the export lines that used it, the new-consent form; the credit export list, the
new-export form and an export's detail (counts, lines, downloads). A guarantee or credit platform's
officers (RECEIVE_CREDIT_REPORTS) see and download the exports addressed to their organization;
every download is logged as an exchange."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from ..forms_credit import ConsentFilter, ConsentForm, ExportFilter, ExportForm, RevokeForm
from ..models import Channel, ConsentScope
from ..selectors_credit import (
    ConsentState,
    consent_history,
    consent_lines,
    consents_for,
    export_lines,
    export_logs,
    exports_for,
    may_manage_consents,
    may_receive_reports,
)
from ..services import credit as services


def _require_manage(user):
    if not may_manage_consents(user):
        raise PermissionDenied


def _form_page(request, form, title, action, *, back, status_on_error=200):
    """Run `action(cleaned_data)` on a valid POST; a refusal's field errors go back in place."""
    status = 200
    if request.method == "POST":
        status = status_on_error
        if form.is_valid():
            try:
                return action(form.cleaned_data)
            except PermissionDeniedError as exc:
                raise PermissionDenied(str(exc.detail)) from None
            except DomainError as exc:
                form.add_service_errors(exc)
                messages.error(request, str(exc.detail))
    return render(
        request, "exchange/credit/form.html", {"form": form, "title": title, "back": back}, status=status
    )


# --- consents -----------------------------------------------------------------------------------


def _scope_labels(scopes):
    return "、".join(str(ConsentScope(s).label) for s in scopes or [] if s in ConsentScope.values)


class ScopesColumn(Column):
    """A consent's scopes spelled out (stored as a JSON list of codes)."""

    def value(self, obj):
        return _scope_labels(getattr(obj, self.accessor, None))


class ConsentListView(ObjectListView):
    title = gettext_lazy("信用信息授权")
    filterset_class = ConsentFilter
    export_name = "credit-consents"
    default_sort = ("-signed_on", "-pk")
    columns = [
        Column(gettext_lazy("授权编号"), "number", sort="number", link=True),
        Column(gettext_lazy("授权主体"), "party", sort="party_id"),
        Column(gettext_lazy("数据接收方"), "recipient.name", sort="recipient__name"),
        ScopesColumn(gettext_lazy("授权范围"), "scopes"),
        Column(gettext_lazy("签署日期"), "signed_on", sort="signed_on"),
        Column(gettext_lazy("有效期起"), "valid_from", sort="valid_from"),
        Column(gettext_lazy("有效期止"), "valid_until", sort="valid_until"),
        Column(gettext_lazy("状态"), "state_label", sort="state"),
    ]

    def get_queryset(self):
        return consents_for(self.request.user)

    def get(self, request):
        _require_manage(request.user)
        return super().get(request)

    def get_create_url(self):
        return reverse("exchange:consent-new")


def consent_list(request):
    return ConsentListView.as_view()(request)


def consent_detail(request, pk):
    _require_manage(request.user)
    consent = get_object_or_404(consents_for(request.user), pk=pk)
    return _consent_page(request, consent, RevokeForm())


def _consent_page(request, consent, revoke_form, status=200):
    may_revoke = consent.revoked_at is None and can(
        request.user, Capability.MANAGE_CONSENTS, division=services.party_division(consent.party)
    )
    return render(
        request,
        "exchange/credit/consent_detail.html",
        {
            "consent": consent,
            "scope_labels": _scope_labels(consent.scopes),
            "state_label": ConsentState.LABELS[consent.state],
            "revoke_form": revoke_form if may_revoke else None,
            "history": consent_history(consent),
            "lines": consent_lines(consent)[:100],
        },
        status=status,
    )


@require_POST
def consent_revoke(request, pk):
    _require_manage(request.user)
    consent = get_object_or_404(consents_for(request.user), pk=pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.revoke_consent(actor=request.user, consent=consent, reason=form.cleaned_data["reason"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            messages.error(request, str(exc.detail))
            form.add_service_errors(exc)
        else:
            messages.success(request, _("授权 %(number)s 已撤回。") % {"number": consent.number})
            return redirect("exchange:consent-detail", consent.pk)
    consent = get_object_or_404(consents_for(request.user), pk=pk)
    return _consent_page(request, consent, form, status=400)


def consent_new(request):
    _require_manage(request.user)

    def create(data):
        consent = services.record_consent(actor=request.user, **data)
        messages.success(request, _("授权已登记：%(number)s") % {"number": consent.number})
        return redirect("exchange:consent-detail", consent.pk)

    return _form_page(
        request,
        ConsentForm(request.POST or None, user=request.user),
        _("登记信用信息授权书"),
        create,
        back=reverse("exchange:consent-list"),
        status_on_error=400,
    )


# --- exports ------------------------------------------------------------------------------------


def _require_export_reader(user):
    if not (may_manage_consents(user) or may_receive_reports(user)):
        raise PermissionDenied


class ExportListView(ObjectListView):
    title = gettext_lazy("信用报送")
    filterset_class = ExportFilter
    export_name = "credit-exports"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("报送编号"), "number", sort="number", link=True),
        Column(gettext_lazy("接收方"), "recipient.name", sort="recipient__name"),
        Column(gettext_lazy("数据范围（区划）"), "division.name", sort="division__code"),
        Column(gettext_lazy("数据截止日"), "as_of", sort="as_of"),
        Column(gettext_lazy("请求主体数"), "parties_requested"),
        Column(gettext_lazy("报送主体数"), "parties_exported", sort="parties_exported"),
        Column(gettext_lazy("因无授权未报送"), "parties_withheld", sort="parties_withheld"),
        Column(gettext_lazy("生成时间"), "created_at", sort="created_at"),
    ]

    def get_queryset(self):
        return exports_for(self.request.user)

    def get(self, request):
        _require_export_reader(request.user)
        return super().get(request)

    def get_create_url(self):
        return reverse("exchange:credit-export-new") if may_manage_consents(self.request.user) else None


def credit_export_list(request):
    return ExportListView.as_view()(request)


def credit_export_new(request):
    _require_manage(request.user)

    def create(data):
        export = services.create_credit_export(actor=request.user, channel=Channel.WEB, **data)
        messages.success(
            request,
            _("信用报送已生成：%(number)s，报送 %(n)s 个主体，%(w)s 个主体因无授权未报送。")
            % {"number": export.number, "n": export.parties_exported, "w": export.parties_withheld},
        )
        return redirect("exchange:credit-export-detail", export.pk)

    return _form_page(
        request,
        ExportForm(request.POST or None, user=request.user),
        _("生成信用报送"),
        create,
        back=reverse("exchange:credit-export-list"),
        status_on_error=400,
    )


def credit_export_detail(request, pk):
    _require_export_reader(request.user)
    export = get_object_or_404(exports_for(request.user), pk=pk)
    staff = can(request.user, Capability.MANAGE_CONSENTS, division=export.division)
    lines = []
    for line in export_lines(export):
        payload = line.payload
        lines.append(
            {
                "line": line,
                "party": payload.get("party", {}),
                "consents": payload.get("consents", []),
                "scopes": _scope_labels([s for s in ConsentScope.values if s in payload]),
                "eco": payload.get(ConsentScope.ECO_CREDIT.value),
                "loans": (payload.get(ConsentScope.LOAN_PERFORMANCE.value) or {}).get("loans"),
            }
        )
    return render(
        request,
        "exchange/credit/export_detail.html",
        {
            "export": export,
            "lines": lines,
            "staff": staff,
            "logs": export_logs(export) if staff else [],
            "formats": services.EXPORT_FORMATS,
        },
    )


def credit_export_download(request, pk, fmt):
    _require_export_reader(request.user)
    export = get_object_or_404(exports_for(request.user), pk=pk)
    if fmt not in services.EXPORT_FORMATS:
        raise Http404
    try:
        content, content_type, file_name, _log = services.download_credit_export(
            actor=request.user, export=export, fmt=fmt, channel=Channel.WEB
        )
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


urlpatterns = [
    path("credit/consents/", consent_list, name="consent-list"),
    path("credit/consents/new/", consent_new, name="consent-new"),
    path("credit/consents/<int:pk>/", consent_detail, name="consent-detail"),
    path("credit/consents/<int:pk>/revoke/", consent_revoke, name="consent-revoke"),
    path("credit/exports/", credit_export_list, name="credit-export-list"),
    path("credit/exports/new/", credit_export_new, name="credit-export-new"),
    path("credit/exports/<int:pk>/", credit_export_detail, name="credit-export-detail"),
    path(
        "credit/exports/<int:pk>/download/<str:fmt>/", credit_export_download, name="credit-export-download"
    ),
]
