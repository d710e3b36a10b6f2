"""Small helpers shared by the apps' web views."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied

from tmcs.errors import DomainError, PermissionDeniedError


def run_service(request, action, *, success):
    """Call `action()` (a service call) for a POST-and-redirect view.

    A refused permission becomes Django's 403 page; any other domain error is shown as a message
    and None is returned; on success the message `success` is shown and the result returned.
    """
    try:
        result = action()
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return None
    messages.success(request, success)
    return result
