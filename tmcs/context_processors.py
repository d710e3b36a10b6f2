from django.utils.translation import gettext_lazy as _

# (URL namespace, label, Bootstrap icon): the top navigation, one entry per app.
NAVIGATION = [
    ("directory", _("主体与区划"), "bi-diagram-3"),
    ("resources", _("资源登记"), "bi-tree"),
    ("valuation", _("GEP 核算"), "bi-calculator"),
    ("transactions", _("流转交易"), "bi-arrow-left-right"),
    ("finance", _("生态金融"), "bi-bank"),
    ("projects", _("项目管理"), "bi-kanban"),
    ("greenfinance", _("绿色金融"), "bi-shield-check"),
    ("exchange", _("数据交换"), "bi-arrow-repeat"),
    ("brand", _("品牌溯源"), "bi-award"),
    ("journal", _("公开账本"), "bi-link-45deg"),
]


def navigation(request):
    match = getattr(request, "resolver_match", None)
    return {"navigation": NAVIGATION, "current_app": match.app_name if match else ""}
