"""Banks' systems are throttled per organization (not per user): one bank cannot starve the
others by spreading calls over several service accounts. Rate: TMCS_BANK_API_RATE."""

from rest_framework.throttling import SimpleRateThrottle


class BankRateThrottle(SimpleRateThrottle):
    scope = "bank"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        organization_id = getattr(token, "organization_id", None)
        if organization_id is None:
            return None  # staff in the browser: the default user throttle applies
        return self.cache_format % {"scope": self.scope, "ident": f"org{organization_id}"}
