from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TmcsConfig(AppConfig):
    name = "tmcs"
    verbose_name = _("平台基础")

    def ready(self):
        from . import crypto  # noqa: F401  (registers the personal-data key checks)
