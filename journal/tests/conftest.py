"""Fixtures: the finance, transactions and resources suites' fixtures, re-exported so the journal
tests run real registry, ledger and contract services."""

from finance.tests.conftest import *  # noqa: F403  (fixtures)
from resources.tests.conftest import *  # noqa: F403  (fixtures)
from transactions.tests.conftest import *  # noqa: F403  (fixtures)

from .fixtures_chain import chain  # noqa: F401  (fixture)
