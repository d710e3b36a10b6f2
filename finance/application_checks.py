"""Requirements on a loan application that other apps own. Finance runs every registered check
before an application is submitted and again before it is checked (`_revalidate`); an app to the
right of finance (greenfinance: "the product requires insurance") registers its check in its
AppConfig.ready(), so finance never imports it.

A check is `check(application, on) -> list[str]`: the unmet requirements, each a sentence for
the user, empty when all is well. `on` is the business date the requirement must hold on."""

_CHECKS = []


def register(check):
    """Register a check (usable as a decorator); registering twice is a no-op."""
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def unmet_requirements(application, on):
    problems = []
    for check in _CHECKS:
        problems.extend(check(application, on))
    return problems
