from .views import credit, datasets, overview

app_name = "exchange"

urlpatterns = [*overview.urlpatterns, *datasets.urlpatterns, *credit.urlpatterns]
