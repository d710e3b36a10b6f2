"""Reads of credit consents and credit exports, restricted to what the user may see.

- Consents: cooperative staff and city administrators (MANAGE_CONSENTS) see the consents of the
  parties living in their division subtree. Recipients do not see consents.
- Exports: staff see the exports of divisions within that reach; a guarantee or credit platform's
  officers (RECEIVE_CREDIT_REPORTS, organization-scoped) see only the exports addressed to their
  own organization."""

import pghistory.models
from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import AdministrativeDivision, Organization, Party
from directory.permissions import Capability, can, is_division_scoped, memberships_with
from directory.selectors import within_reach

from .models import CreditConsent, CreditExport, CreditExportLine, Dataset, ExchangeLog
from .services.credit import RECIPIENT_KINDS


class ConsentState:
    VALID = "valid"
    PENDING = "pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CHOICES = [
        (VALID, _("有效")),
        (PENDING, _("未生效")),
        (EXPIRED, _("已过期")),
        (REVOKED, _("已撤回")),
    ]
    LABELS = dict(CHOICES)


def may_manage_consents(user):
    return can(user, Capability.MANAGE_CONSENTS)


def may_receive_reports(user):
    return can(user, Capability.RECEIVE_CREDIT_REPORTS)


def _party_reach(user, prefix=""):
    capability = Capability.MANAGE_CONSENTS
    return within_reach(user, f"{prefix}person__division__code", capability) | within_reach(
        user, f"{prefix}organization__division__code", capability
    )


def consent_parties(user):
    """Parties whose consents the user may record: those living within the user's reach."""
    return (
        Party.objects.filter(_party_reach(user))
        .select_related("person", "organization")
        .order_by("kind", "organization__name", "person__name", "pk")
    )


def recipients():
    """Organizations credit data may go to (institutions, not personal data), platform-wide."""
    return Organization.objects.filter(kind__in=RECIPIENT_KINDS, is_active=True).order_by("kind", "name")


def consent_divisions(user):
    return (
        AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.MANAGE_CONSENTS))
        .defer("boundary")
        .order_by("code")
    )


def with_state(queryset, today=None):
    """Consents annotated with `state` (valid / pending / expired / revoked on `today`) and its label."""
    today = today or timezone.localdate()
    whens = [
        (Q(revoked_at__isnull=False), ConsentState.REVOKED),
        (Q(valid_until__lt=today), ConsentState.EXPIRED),
        (Q(valid_from__gt=today), ConsentState.PENDING),
    ]
    return queryset.annotate(
        state=Case(
            *[When(q, then=Value(state)) for q, state in whens],
            default=Value(ConsentState.VALID),
            output_field=CharField(),
        ),
        state_label=Case(
            *[When(q, then=Value(str(ConsentState.LABELS[state]))) for q, state in whens],
            default=Value(str(ConsentState.LABELS[ConsentState.VALID])),
            output_field=CharField(),
        ),
    )


def consents_for(user):
    if not user.is_authenticated:
        return CreditConsent.objects.none()
    return with_state(
        CreditConsent.objects.filter(_party_reach(user, "party__")).select_related(
            "party__person", "party__organization", "recipient", "recorded_by", "revoked_by"
        )
    )


def own_recipients(user):
    """Organizations whose reports the user receives (organization-scoped memberships)."""
    return [
        m.organization_id
        for m in memberships_with(user, Capability.RECEIVE_CREDIT_REPORTS)
        if not is_division_scoped(m)
    ]


def exports_for(user):
    if not user.is_authenticated:
        return CreditExport.objects.none()
    q = within_reach(user, "division__code", Capability.MANAGE_CONSENTS)
    own = own_recipients(user)
    if own:
        q |= Q(recipient_id__in=own)
    return CreditExport.objects.filter(q).select_related("recipient", "division", "created_by", "log")


def export_lines(export):
    return (
        CreditExportLine.objects.filter(export=export)
        .select_related("party__person", "party__organization", "consent")
        .order_by("party_id")
    )


def consent_lines(consent):
    """Export lines whose data left under this consent (it may be one of two consents of a line)."""
    return (
        CreditExportLine.objects.filter(
            Q(consent=consent) | Q(payload__consents__contains=[{"number": consent.number}])
        )
        .select_related("export__recipient")
        .order_by("-export__created_at", "-pk")
    )


def consent_history(consent):
    """Recorded changes of the consent, newest first, with the acting user and reason."""
    return pghistory.models.Events.objects.filter(
        pgh_model="exchange.CreditConsentEvent", pgh_obj_id=str(consent.pk)
    ).order_by("-pgh_created_at", "-pgh_id")


def export_logs(export):
    """The export's creation and its downloads (ExchangeLog rows)."""
    return (
        ExchangeLog.objects.filter(dataset=Dataset.CREDIT_REPORT)
        .filter(Q(pk=export.log_id) | Q(parameters__credit_export=export.number))
        .select_related("actor")
        .order_by("started_at", "pk")
    )
