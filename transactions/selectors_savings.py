"""Reads of savings slips (生态资源储蓄单), restricted to the user: cooperative staff, city
administrators and auditors see the slips of contracts in their divisions, village clerks those of
their village; organization-scoped roles (banks, investors) none (a bank sees a slip's income
right through its own pledges). The public check page reads one slip by its code and shows no
personal data."""

import pghistory.models
import segno
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from directory.selectors import within_reach
from resources.models import Restriction, RightStatus

from .models import SavingsSlip, SlipStatus
from .services.savings import SECURITY_KINDS, verify_slip


def _pledged():
    return Exists(
        Restriction.objects.filter(
            right_id=OuterRef("income_right_id"), kind__in=SECURITY_KINDS, status=RightStatus.ACTIVE
        )
    )


def slips_for(user):
    """Slips within the user's reach, each annotated with `is_pledged` (an active pledge or
    mortgage on its income right)."""
    if not user.is_authenticated:
        return SavingsSlip.objects.none()
    reach = within_reach(user, "contract__division__code") | within_reach(user, "asset__division__code")
    return (
        SavingsSlip.objects.filter(reach)
        .annotate(is_pledged=_pledged())
        .select_related(
            "contract__division",
            "contract__cooperative",
            "holder__person",
            "holder__organization",
            "asset__resource_type",
            "asset__division",
            "income_right",
            "issued_by",
        )
        .defer(
            "asset__geometry",
            "asset__division__boundary",
            "contract__division__boundary",
        )
    )


def visible_slip(user, pk):
    return slips_for(user).filter(pk=pk).first()


def slip_securities(slip):
    """Every pledge or mortgage ever recorded on the slip's income right (active first), with the
    finance registration (Pledge) behind it when there is one, for the link."""
    return list(
        Restriction.objects.filter(right_id=slip.income_right_id, kind__in=SECURITY_KINDS)
        .select_related("holder__person", "holder__organization", "finance_pledge")
        .order_by("status", "-pk")
    )


def slip_history(slip):
    """Recorded changes of the slip, its income right and the securities on it, newest first,
    with the acting user and reason from the audit context."""
    restriction_ids = Restriction.objects.filter(right_id=slip.income_right_id).values_list("pk", flat=True)
    return pghistory.models.Events.objects.filter(
        Q(pgh_model="transactions.SavingsSlipEvent", pgh_obj_id=str(slip.pk))
        | Q(pgh_model="resources.RightEvent", pgh_obj_id=str(slip.income_right_id))
        | Q(pgh_model="resources.RestrictionEvent", pgh_obj_id__in=[str(pk) for pk in restriction_ids])
    ).order_by("-pgh_created_at", "-pgh_id")


def live_slips_of(contract):
    return (
        SavingsSlip.objects.filter(contract=contract)
        .exclude(status=SlipStatus.CANCELLED)
        .select_related("holder__person", "holder__organization", "asset")
        .defer("asset__geometry")
        .order_by("asset_id", "holder_id")
    )


# --- public check page and the printed slip -----------------------------------------------------------


def mask_name(name):
    """张三 → 张*, 欧阳娜娜 → 欧***: enough for the holder to recognise, not to identify."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def holder_display(slip):
    """A person's name masked; an organization (a village collective) by its public name."""
    holder = slip.holder
    if holder.person_id:
        return mask_name(holder.person.name)
    return holder.organization.name


def is_pledged(slip):
    return Restriction.objects.filter(
        right_id=slip.income_right_id, kind__in=SECURITY_KINDS, status=RightStatus.ACTIVE
    ).exists()


def slip_for_check(code, number=None):
    """The slip named by its verification code (and number, when the form gives both), or None."""
    slip = verify_slip(code)
    if slip is None:
        return None
    if number is not None and slip.number != "".join(str(number).split()).upper():
        return None
    return slip


def verification_url(slip):
    """The public check page the printed slip's QR code points to."""
    return settings.TMCS_PUBLIC_BASE_URL.rstrip("/") + reverse("slip-check", args=[slip.verification_code])


def slip_document_context(slip):
    """Everything the printed slip shows. The holder's national ID appears masked only."""
    from .pdf import amount_in_words

    holder = slip.holder
    person, organization = holder.person, holder.organization
    url = verification_url(slip)
    share = (
        "1"
        if slip.share_numerator == slip.share_denominator
        else f"{slip.share_numerator}/{slip.share_denominator}"
    )
    return {
        "slip": slip,
        "contract": slip.contract,
        "asset": slip.asset,
        "holder_name": person.name if person else organization.name,
        "holder_identifier": person.national_id_masked if person else (organization.uscc or ""),
        "holder_is_person": person is not None,
        "share": share,
        "amount_words": amount_in_words(slip.guaranteed_annual_amount),
        "term_years": _whole_years(slip.start_date, slip.end_date),
        "verification_url": url,
        "qr_svg": segno.make(url, error="m").svg_data_uri(scale=3),
    }


def _whole_years(start, end):
    from .services.collection import add_months

    years = 0
    while add_months(start, 12 * (years + 1)) <= end:
        years += 1
    return years if add_months(start, 12 * years) == end else None
