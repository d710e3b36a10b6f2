from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GreenFinanceConfig(AppConfig):
    name = "greenfinance"
    verbose_name = _("绿色金融")

    def ready(self):
        # "A loan product can require insurance": finance asks its registered checks before an
        # application is submitted or checked; the insurance check lives here (see checks.py).
        from finance import application_checks

        from . import checks

        application_checks.register(checks.insurance_requirement)
