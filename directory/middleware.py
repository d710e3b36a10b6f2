from tmcs.audit import client_ip

from .models import ApiRequestLog, ApiToken


class ApiRequestLogMiddleware:
    """Record every request made with an API token (banks' systems): who, what, when, outcome.

    DRF authenticates inside the view and copies the token to the Django request as `auth`, so
    the log is written after the response, with its status code.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            ApiRequestLog.objects.create(
                token=token,
                user_id=token.user_id,
                organization_id=token.organization_id,
                method=request.method,
                path=request.get_full_path()[:500],
                status_code=response.status_code,
                ip=client_ip(request),
                personal_data=getattr(request, "personal_data_returned", []),
            )
        return response


def note_personal_data(request, person_ids, fields):
    """Record on the request that the response carries these persons' `fields` (masked or not),
    so the API log says what personal data each bank call returned. Accepts a DRF request."""
    django_request = getattr(request, "_request", request)
    returned = getattr(django_request, "personal_data_returned", None)
    if returned is None:
        returned = django_request.personal_data_returned = []
    fields = sorted(fields)
    returned.extend({"person": pk, "fields": fields} for pk in person_ids)
