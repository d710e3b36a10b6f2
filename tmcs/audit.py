"""Audit foundation: every history row written by django-pghistory's triggers carries the
context of who did it, from where and why.

- On web and API requests `AuditContextMiddleware` tags writes with the user, URL, method and
  client address (the user is updated when DRF authenticates a token inside the view).
- Services, management commands and Celery tasks wrap their writes in `audit_context(...)`.
"""

from contextlib import contextmanager

import pghistory
from django.db import connection
from pghistory.middleware import HistoryMiddleware


def client_ip(request):
    """The client address as seen by our reverse proxy (first X-Forwarded-For hop) or the socket."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


def _user_pk(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user._meta.pk.get_db_prep_value(user.pk, connection)


@contextmanager
def audit_context(*, user=None, request=None, reason=None, **extra):
    """Tag every tracked write inside the block with who/where/why.

    Nested blocks add to (and override keys of) the outer context, so a service called from a
    request keeps the request's URL and adds its own reason.
    """
    meta = {key: value for key, value in extra.items() if value is not None}
    if user is not None:
        meta["user"] = _user_pk(user)
        meta["username"] = user.get_username() if getattr(user, "is_authenticated", False) else None
    if request is not None:
        meta.setdefault("url", request.path)
        meta.setdefault("method", request.method)
        meta.setdefault("ip", client_ip(request))
    if reason:
        meta["reason"] = str(reason)
    with pghistory.context(**meta):
        yield


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's middleware plus the username, method and client address."""

    def get_context(self, request):
        context = super().get_context(request)
        user = getattr(request, "user", None)
        context["username"] = user.get_username() if getattr(user, "is_authenticated", False) else None
        context["method"] = request.method
        context["ip"] = client_ip(request)
        return context
