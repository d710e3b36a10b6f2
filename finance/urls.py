from .views import applications, loans, overview, pledges, products, risk, scoring

app_name = "finance"

urlpatterns = [
    *overview.urlpatterns,
    *products.urlpatterns,
    *scoring.urlpatterns,
    *applications.urlpatterns,
    *pledges.urlpatterns,
    *loans.urlpatterns,
    *risk.urlpatterns,
]
