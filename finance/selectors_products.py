"""Reads of loan products: cooperative staff and the platform's administrators see every bank's
products (they advise applicants on all of them); a bank's officers see only their own."""

from directory.models import Organization, OrganizationKind
from directory.permissions import Capability, can

from .models import LoanProduct
from .services.common import acting_bank


def products_for(user):
    if not user.is_authenticated:
        return LoanProduct.objects.none()
    queryset = LoanProduct.objects.select_related("bank", "risk_scheme", "created_by")
    if user.is_superuser or can(user, Capability.MANAGE_LOANS) or can(user, Capability.MANAGE_SCORECARDS):
        return queryset
    bank = acting_bank(user)
    if bank is not None:
        return queryset.filter(bank=bank)
    return queryset.none()


def product_detail(user, pk):
    """One product the user may see, with its resource types (or LoanProduct.DoesNotExist)."""
    return products_for(user).prefetch_related("eligible_resource_types").get(pk=pk)


def banks_for_products(user):
    """Banks the user may create products for: every active bank for platform operators, the
    officer's own bank otherwise."""
    banks = Organization.objects.filter(kind=OrganizationKind.BANK, is_active=True).order_by("name")
    if user.is_authenticated and user.can_operate_platform:
        return banks
    own = acting_bank(user) if user.is_authenticated else None
    return banks.filter(pk=own.pk) if own is not None else banks.none()
