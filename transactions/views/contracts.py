"""Trade contract pages: list, detail, create from a SOLD listing, sign, terminate, renew, abandon a
sale whose winner did not sign, and the contract PDF."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
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

from .. import pdf
from ..forms.contracts import AbandonForm, ContractCreateForm, RenewForm, TerminateForm, TradeContractFilter
from ..models import ContractStatus, Listing, ListingStatus
from ..selectors_contracts import (
    applied_deposit,
    assets_with_valuation,
    contract_items,
    contract_movements,
    contracts_for,
    sold_listings_for,
)
from ..services import contracts as services


class ContractListView(ObjectListView):
    title = gettext_lazy("交易合同")
    filterset_class = TradeContractFilter
    export_name = "trade-contracts"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("合同编号"), "number", sort="number", link=True),
        Column(gettext_lazy("挂牌编号"), "listing.code", sort="listing__code"),
        Column(gettext_lazy("受让方"), "investor.name", sort="investor__name"),
        Column(gettext_lazy("交易方式"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("起始日"), "start_date", sort="start_date"),
        Column(gettext_lazy("截止日（不含）"), "end_date", sort="end_date"),
        Column(gettext_lazy("合同总价（元）"), "price", sort="price"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return contracts_for(self.request.user).defer("division__boundary")


def _may_manage(user, contract):
    return can(user, Capability.MANAGE_TRADING, division=contract.division)


def contract_detail(request, pk):
    contract = get_object_or_404(contracts_for(request.user).select_related("renewal_of", "signed_by"), pk=pk)
    installments = list(contract.installments.all())
    may_manage = _may_manage(request.user, contract)
    renewal = contracts_for(request.user).filter(renewal_of=contract).first()
    deadline = services.signing_deadline(contract.listing) if contract.listing_id else None
    return render(
        request,
        "transactions/contracts/detail.html",
        {
            "contract": contract,
            "items": contract_items(contract),
            "installments": installments,
            "outstanding": sum((i.outstanding for i in installments if i.status != "cancelled"), 0),
            "movements": contract_movements(contract),
            "renewal": renewal,
            "may_manage": may_manage,
            "may_sign": may_manage and contract.status == ContractStatus.DRAFT,
            "may_terminate": may_manage and contract.status == ContractStatus.SIGNED,
            "may_renew": may_manage
            and contract.status in (ContractStatus.SIGNED, ContractStatus.EXPIRED)
            and renewal is None,
            "may_abandon": may_manage
            and contract.status == ContractStatus.DRAFT
            and contract.listing_id
            and contract.listing.status == ListingStatus.SOLD
            and deadline is not None
            and timezone.now() >= deadline,
            "signing_deadline": deadline,
        },
    )


def _form_page(request, form, title, action, *, back, template="transactions/contracts/form.html", **extra):
    """Run `action(cleaned_data)` on a valid POST; field errors of a refusal go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            result = action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            for name in form.errors:  # add_error runs after full_clean marked the widgets
                if name in form.fields:
                    widget = form.fields[name].widget
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
            messages.error(request, str(exc.detail))
        else:
            return result
    return render(request, template, {"form": form, "title": title, "back": back, **extra})


def contract_create(request):
    listing = get_object_or_404(sold_listings_for(request.user), pk=request.GET.get("listing") or 0)
    form = ContractCreateForm(
        request.POST or None, initial={"obligations": listing.obligations, "payment_frequency": "annual"}
    )

    def create(data):
        contract = services.create_trade_contract(actor=request.user, listing=listing, **data)
        messages.success(request, _("交易合同草稿已生成：%(number)s") % {"number": contract.number})
        return redirect(contract)

    return _form_page(
        request,
        form,
        _("签订交易合同：%(code)s") % {"code": listing.code},
        create,
        back=reverse("transactions:contract-list"),
        listing=listing,
        application=listing.winning_bid.application if listing.winning_bid_id else None,
    )


@require_POST
def contract_sign(request, pk):
    contract = get_object_or_404(contracts_for(request.user), pk=pk)
    run_service(
        request,
        lambda: services.sign_trade_contract(actor=request.user, contract=contract),
        success=_("合同已签订，租赁/权利已登记。"),
    )
    return redirect(contract)


def contract_terminate(request, pk):
    contract = get_object_or_404(contracts_for(request.user), pk=pk)
    if not _may_manage(request.user, contract):
        raise PermissionDenied

    def terminate(data):
        services.terminate_trade_contract(actor=request.user, contract=contract, **data)
        messages.success(request, _("合同已解除。"))
        return redirect(contract)

    return _form_page(
        request,
        TerminateForm(request.POST or None),
        _("解除合同：%(number)s") % {"number": contract.number},
        terminate,
        back=contract.get_absolute_url(),
        contract=contract,
    )


def contract_renew(request, pk):
    contract = get_object_or_404(contracts_for(request.user), pk=pk)
    if not _may_manage(request.user, contract):
        raise PermissionDenied
    form = RenewForm(
        request.POST or None,
        initial={"price": contract.price, "payment_frequency": contract.payment_frequency},
    )

    def renew(data):
        renewal = services.renew_trade_contract(actor=request.user, contract=contract, **data)
        messages.success(request, _("续签合同草稿已生成：%(number)s") % {"number": renewal.number})
        return redirect(renewal)

    return _form_page(
        request,
        form,
        _("续签合同：%(number)s") % {"number": contract.number},
        renew,
        back=contract.get_absolute_url(),
        contract=contract,
    )


def sale_abandon(request, listing_pk):
    listing = get_object_or_404(
        Listing.objects.filter(pk__in=sold_listings_for(request.user).values("pk"))
        | Listing.objects.filter(pk__in=contracts_for(request.user).values("listing")),
        pk=listing_pk,
    )
    if not can(request.user, Capability.MANAGE_TRADING, division=listing.division):
        raise PermissionDenied

    def abandon(data):
        services.abandon_sale(actor=request.user, listing=listing, **data)
        messages.success(request, _("已放弃成交，竞得人保证金已罚没。"))
        return redirect("transactions:contract-list")

    return _form_page(
        request,
        AbandonForm(request.POST or None),
        _("放弃成交：%(code)s") % {"code": listing.code},
        abandon,
        back=reverse("transactions:contract-list"),
        listing=listing,
        deadline=services.signing_deadline(listing),
    )


def contract_pdf(request, pk):
    contract = get_object_or_404(contracts_for(request.user).select_related("signed_by"), pk=pk)
    listing = contract.listing
    application = listing.winning_bid.application if listing and listing.winning_bid_id else None
    items = assets_with_valuation(contract_items(contract))
    installments = list(contract.installments.exclude(status="cancelled"))
    deposit_applied = applied_deposit(contract)
    content = pdf.render_pdf(
        "transactions/pdf/trade_contract.html",
        {
            "contract": contract,
            "listing": listing,
            "application": application,
            "items": items,
            "installments": installments,
            "deposit_applied": deposit_applied,
            "price_words": pdf.amount_in_words(contract.price),
            "deposit_words": pdf.amount_in_words(deposit_applied) if deposit_applied else "",
            "total_mu": sum((item.asset.area_mu or 0 for item, _v in items), 0),
        },
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.number}.pdf"'
    return response


def contract_list(request):
    return ContractListView.as_view()(request)


urlpatterns = [
    path("contracts/", contract_list, name="contract-list"),
    path("contracts/new/", contract_create, name="contract-create"),
    path("contracts/<int:pk>/", contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/sign/", contract_sign, name="contract-sign"),
    path("contracts/<int:pk>/terminate/", contract_terminate, name="contract-terminate"),
    path("contracts/<int:pk>/renew/", contract_renew, name="contract-renew"),
    path("contracts/<int:pk>/contract.pdf", contract_pdf, name="contract-pdf"),
    path("contracts/abandon/<int:listing_pk>/", sale_abandon, name="contract-abandon"),
]
