from django.urls import path

from . import input_views, views

app_name = "valuation"

urlpatterns = [
    path("", views.RunListView.as_view(), name="index"),  # the module opens on its runs
    path("inputs/", input_views.InputListView.as_view(), name="input-list"),
    path("inputs/new/", input_views.input_start, name="input-start"),
    path("inputs/asset/<str:code>/", input_views.asset_inputs, name="input-asset"),
    path("inputs/division/<str:code>/", input_views.division_inputs, name="input-division"),
    path("inputs/imports/", input_views.InputImportListView.as_view(), name="input-import-list"),
    path("inputs/imports/new/", input_views.input_import_create, name="input-import-create"),
    path("inputs/imports/template.xlsx", input_views.input_template, name="input-template"),
    path("inputs/imports/<int:pk>/", input_views.input_import_detail, name="input-import-detail"),
    path("inputs/imports/<int:pk>/errors.xlsx", input_views.input_import_errors, name="input-import-errors"),
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
    path("price-indices/", views.price_index_list, name="price-index-list"),
]
