"""Savings slips (生态资源储蓄单): staff pages and the public check page (being written)."""

urlpatterns = []
public_urlpatterns = []
