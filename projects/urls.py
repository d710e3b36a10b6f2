from .views import dashboard, gep_balance, monitoring, overview, performance, projects, red_lines

app_name = "projects"

urlpatterns = [
    *overview.urlpatterns,
    *projects.urlpatterns,
    *gep_balance.urlpatterns,
    *red_lines.urlpatterns,
    *performance.urlpatterns,
    *monitoring.urlpatterns,
    *dashboard.urlpatterns,
]
