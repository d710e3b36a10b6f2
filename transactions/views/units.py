urlpatterns = []
public_urlpatterns = []
