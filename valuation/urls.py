from django.urls import path

from . import views

app_name = "valuation"

urlpatterns = [
    path("", views.index, name="index"),
    path("runs/", views.RunListView.as_view(), name="run-list"),
    path("runs/new/", views.run_create, name="run-create"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/report.pdf", views.run_report, name="run-report"),
    path("runs/<int:pk>/export.xlsx", views.run_export, name="run-export"),
    path("runs/<int:pk>/compare/<int:other_pk>/", views.run_compare, name="run-compare"),
    path("runs/<int:pk>/<slug:action>/", views.run_action, name="run-action"),
    path("parameter-sets/", views.parameter_set_list, name="parameter-set-list"),
    path("parameter-sets/<int:pk>/", views.parameter_set_detail, name="parameter-set-detail"),
    path("parameter-sets/<int:pk>/<slug:action>/", views.parameter_set_action, name="parameter-set-action"),
    path("parameter-values/<int:pk>/", views.parameter_value_edit, name="parameter-value-edit"),
    path("indicators/", views.indicator_list, name="indicator-list"),
]
