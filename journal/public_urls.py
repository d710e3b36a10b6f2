"""Public pages of the journal, no login (mounted at /ledger/): daily checkpoints and their
downloads, chain verification, receipts for certificates, contracts and slips."""

from .views import public

app_name = "journal-public"

urlpatterns = [*public.urlpatterns]
