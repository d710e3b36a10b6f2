# Registry fixtures (catalog, village, parcels) shared with the resources tests.
from resources.tests.conftest import catalog, forest_type, make_asset, village  # noqa: F401
