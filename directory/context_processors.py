from .permissions import Capability, can
from .selectors import unread_notification_count


class _DirectoryPerms:
    """Lazy capability flags for templates: {{ perms_directory.manage_users }}."""

    def __init__(self, user):
        self.user = user

    def __getattr__(self, name):
        try:
            return can(self.user, Capability(name))
        except ValueError:
            raise AttributeError(name) from None


def directory(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"perms_directory": _DirectoryPerms(user), "unread_notifications": unread_notification_count(user)}
