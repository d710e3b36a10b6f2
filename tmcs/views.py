from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_celery_beat.models import PeriodicTask

from directory.selectors import dashboard_counts
from tmcs.api.exceptions import error_body
from tmcs.health import run_checks


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers and monitors: 200 only when database, Redis and a worker all answer."""
    ok, checks = run_checks()
    return JsonResponse({"status": "ok" if ok else "down", "checks": checks}, status=200 if ok else 503)


def dashboard(request):
    return render(request, "tmcs/dashboard.html", {"counts": dashboard_counts(request.user)})


@never_cache
def system_status(request):
    """Operators' view of the platform's services and schedules (HTMX refreshes the panel)."""
    if not request.user.can_operate_platform:
        raise PermissionDenied(_("只有市级合作社管理员可以查看系统状态。"))
    ok, checks = run_checks()
    context = {"ok": ok, "checks": checks}
    if request.headers.get("HX-Request"):
        return render(request, "tmcs/partials/system_checks.html", context)
    context["schedules"] = PeriodicTask.objects.select_related("crontab", "interval").order_by("name")
    return render(request, "tmcs/system_status.html", context)


def _wants_json(request):
    return request.path_info.startswith("/api/")


@login_not_required
def page_not_found(request, exception):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", _("请求的资源不存在。")), status=404)
    return render(request, "404.html", status=404)


@login_not_required
def permission_denied(request, exception):
    message = str(exception) if exception and str(exception) else _("您没有权限访问此页面。")
    if _wants_json(request):
        return JsonResponse(error_body("permission_denied", message), status=403)
    return render(request, "403.html", {"message": message}, status=403)


@login_not_required
def server_error(request):
    if _wants_json(request):
        return JsonResponse(error_body("server_error", _("服务器内部错误，请稍后重试。")), status=500)
    # Rendered without a request context: the error may come from a context processor or the database.
    return HttpResponseServerError(loader.get_template("500.html").render())
