"""Fixtures: everything the projects and finance suites build (banks, households, valued forest
rights, products, applications, pledges, loans, key projects, cooperatives), re-exported so each
area's tests start from real upstream records. Area-specific fixtures live in fixtures_<area>.py."""

from finance.tests.conftest import *  # noqa: F403  (fixtures)
from projects.tests.conftest import *  # noqa: F403  (fixtures)
from resources.tests.conftest import *  # noqa: F403  (fixtures)
from transactions.tests.conftest import *  # noqa: F403  (fixtures)
