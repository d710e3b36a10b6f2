"""Domain errors raised by services. Views and the API turn them into messages and status
codes (400 for invalid input, 409 for conflicts with the current state)."""


class DomainError(Exception):
    code = "domain_error"
    status_code = 400

    def __init__(self, detail, *, code=None, fields=None):
        super().__init__(str(detail))
        self.detail = detail
        if code:
            self.code = code
        self.fields = fields or {}


class ConflictError(DomainError):
    """The request contradicts the current state (a duplicate, an overlap, a race lost)."""

    code = "conflict"
    status_code = 409


class InvalidTransition(ConflictError):
    code = "invalid_transition"


class PermissionDeniedError(DomainError):
    """The actor's role or reach does not allow this write."""

    code = "permission_denied"
    status_code = 403
