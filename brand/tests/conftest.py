"""Fixtures: everything the finance, transactions and resources suites build (banks, households,
registered assets, cooperatives, investors), re-exported, plus the brand's own in fixtures_brand."""

from finance.tests.conftest import *  # noqa: F403  (fixtures)
from resources.tests.conftest import *  # noqa: F403  (fixtures)
from transactions.tests.conftest import *  # noqa: F403  (fixtures)

from .fixtures_brand import *  # noqa: F403  (fixtures)
