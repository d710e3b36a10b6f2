"""公示期即将届满: registrations in public notice whose notice ends within `days` (and those
already past their end, which the registry's own task will close) → the registry staff over the
asset's division, so that open objections are dealt with before the notice closes."""

import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from resources.models import ObjectionStatus, Registration, RegistrationStatus

from ..models import MonitorJob
from . import CheckResult, Finding, IntParam, Job, stable_key


def check(params, today, audience):
    horizon = timezone.now() + datetime.timedelta(days=params["days"])
    in_notice = Registration.objects.filter(status=RegistrationStatus.IN_PUBLIC_NOTICE)
    result = CheckResult(checked=in_notice.count())
    due = (
        in_notice.filter(notice_ends_at__lte=horizon)
        .select_related("asset__division")
        .annotate(open_objections=Count("objections", filter=Q(objections__status=ObjectionStatus.OPEN)))
        .order_by("notice_ends_at", "pk")
    )
    for registration in due:
        asset = registration.asset
        ends = timezone.localtime(registration.notice_ends_at)
        body = _("资源 %(code)s %(name)s 的确权登记公示将于 %(ends)s 届满，尚有 %(n)s 条异议待处理。") % {
            "code": asset.code,
            "name": asset.name,
            "ends": ends.strftime("%Y-%m-%d %H:%M"),
            "n": registration.open_objections,
        }
        result.findings.append(
            Finding(
                # the end moves when the notice is restarted: that is a new condition
                key=stable_key("registration", registration.pk, ends.date().isoformat()),
                level="danger" if registration.open_objections else "warning",
                title=_("公示期即将届满：%(code)s %(name)s") % {"code": asset.code, "name": asset.name},
                body=body,
                link=registration.get_absolute_url(),
                division=asset.division,
                recipients=audience.staff(Capability.MANAGE_REGISTRY, asset.division),
            )
        )
    return result


JOB = Job(
    key=MonitorJob.NOTICE_ENDING,
    check=check,
    params=(IntParam("days", gettext_lazy("提前天数"), default=2, minimum=0, maximum=60),),
)
