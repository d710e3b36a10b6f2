"""Loan product pages: the list (staff see every bank's products, a bank its own), the product page
with its annualised rate range, and create / edit / take off sale for the bank's officers and the
city administrators."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from resources.models import RightKind
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from ..forms.products import ProductFilter, ProductForm, product_initial
from ..models import InsuranceKind, LoanProduct, RepaymentMethod
from ..selectors_products import banks_for_products, product_detail, products_for
from ..services import products as services
from ..services.common import acting_bank


def percent(value):
    """0.036 → "3.60%" (rates and ratios on pages and in exports)."""
    if value is None or value == "":
        return ""
    return f"{(Decimal(value) * 100).quantize(Decimal('0.01'))}%"


@dataclass(frozen=True)
class PercentColumn(Column):
    def value(self, obj):
        return percent(super().value(obj))


class ProductListView(ObjectListView):
    title = gettext_lazy("贷款产品")
    filterset_class = ProductFilter
    export_name = "loan-products"
    default_sort = ("bank__name", "code")
    columns = [
        Column(gettext_lazy("产品代码"), "code", sort="code", link=True),
        Column(gettext_lazy("产品名称"), "name", sort="name"),
        Column(gettext_lazy("贷款银行"), "bank.name", sort="bank__name"),
        Column(gettext_lazy("产品类型"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("担保要求"), "get_guarantee_requirement_display", sort="guarantee_requirement"),
        PercentColumn(gettext_lazy("最高抵押率"), "max_ltv", sort="max_ltv"),
        PercentColumn(gettext_lazy("最低年利率"), "rate_min", sort="rate_min"),
        PercentColumn(gettext_lazy("最高年利率"), "rate_max", sort="rate_max"),
        Column(gettext_lazy("最高金额（元）"), "max_amount", sort="max_amount"),
        Column(gettext_lazy("最长期限（月）"), "term_max_months", sort="term_max_months"),
        Column(gettext_lazy("在售"), "is_active", sort="is_active"),
    ]

    def get_queryset(self):
        return products_for(self.request.user)

    def get_create_url(self):
        return reverse("finance:product-create") if banks_for_products(self.request.user).exists() else None


def _product_or_404(user, pk):
    try:
        return product_detail(user, pk)
    except LoanProduct.DoesNotExist:
        raise Http404 from None


def detail(request, pk):
    product = _product_or_404(request.user, pk)
    return render(
        request,
        "finance/products/detail.html",
        {
            "product": product,
            "apr_ranges": [
                {
                    "label": apr.label,
                    "simple": (percent(apr.simple_min), percent(apr.simple_max)),
                    "compound": (percent(apr.compound_min), percent(apr.compound_max)),
                }
                for apr in services.apr_ranges(product)
            ],
            "ratios": {
                name: percent(getattr(product, name))
                for name in (
                    "max_ltv",
                    "haircut",
                    "income_share_of_gep",
                    "discount_rate",
                    "penalty_markup",
                    "rate_min",
                    "rate_max",
                )
            },
            "may_manage": services.may_manage_products_of(request.user, product.bank),
            "repayment_methods": [RepaymentMethod(m).label for m in product.repayment_methods],
            "eligible_right_kinds": [RightKind(k).label for k in product.eligible_right_kinds],
            "required_insurance_kinds": [InsuranceKind(k).label for k in product.required_insurance_kinds],
        },
    )


def _form_page(request, form, title, action, back):
    """Run `action()` on a valid POST; a refusal's field errors go back next to the fields."""
    if request.method == "POST" and form.is_valid():
        try:
            return action()
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
    return render(request, "finance/products/form.html", {"form": form, "title": title, "back": back})


def create(request):
    banks = banks_for_products(request.user)
    if not banks.exists():
        raise PermissionDenied
    own = acting_bank(request.user)
    choose = own is None  # platform operators pick the bank; an officer acts for their own
    form = ProductForm(request.POST or None, initial=product_initial(), banks=banks if choose else None)

    def save():
        bank = form.cleaned_data["bank"] if choose else own
        product = services.create_product(actor=request.user, bank=bank, **form.service_fields())
        messages.success(request, _("贷款产品已创建：%(name)s") % {"name": product.name})
        return redirect(product)

    return _form_page(request, form, _("新增贷款产品"), save, reverse("finance:product-list"))


def edit(request, pk):
    product = _product_or_404(request.user, pk)
    if not services.may_manage_products_of(request.user, product.bank):
        raise PermissionDenied
    form = ProductForm(request.POST or None, initial=product_initial(product))

    def save():
        services.update_product(actor=request.user, product=product, **form.service_fields())
        messages.success(request, _("贷款产品已保存。"))
        return redirect(product)

    title = _("修改贷款产品：%(name)s") % {"name": product.name}
    return _form_page(request, form, title, save, product.get_absolute_url())


@require_POST
def set_active(request, pk):
    product = _product_or_404(request.user, pk)
    active = request.POST.get("active") == "1"
    run_service(
        request,
        lambda: services.set_product_active(actor=request.user, product=product, active=active),
        success=_("产品已上架。") if active else _("产品已下架。"),
    )
    return redirect(product)


def product_list(request):
    return ProductListView.as_view()(request)


urlpatterns = [
    path("products/", product_list, name="product-list"),
    path("products/new/", create, name="product-create"),
    path("products/<int:pk>/", detail, name="product-detail"),
    path("products/<int:pk>/edit/", edit, name="product-edit"),
    path("products/<int:pk>/active/", set_active, name="product-active"),
]
public_urlpatterns = []
