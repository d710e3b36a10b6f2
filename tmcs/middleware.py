from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every web page needs a signed-in user unless the view is marked @login_not_required.

    The API authenticates in DRF's view layer (tokens, sessions) and answers 401/403 in the
    common JSON error format itself, so it is left to DRF here.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
