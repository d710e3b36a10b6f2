from .views import funds, insurance, overview

app_name = "greenfinance"

urlpatterns = [*overview.urlpatterns, *insurance.urlpatterns, *funds.urlpatterns]
