"""The projects front page: counts within the user's reach and links by capability."""

import pytest
from django.urls import reverse

from projects.models import ProjectStatus

pytestmark = pytest.mark.django_db


def test_staff_sees_counts_and_oversight_links(client, county_staff, make_project):
    make_project(status=ProjectStatus.SUBMITTED)
    make_project(status=ProjectStatus.ADMITTED, admitted_on="2026-02-01")
    client.force_login(county_staff)
    page = client.get(reverse("projects:index")).content.decode()
    assert 'id="stat-submitted">1<' in page
    assert 'id="stat-admitted">1<' in page
    assert reverse("projects:red-lines") in page
    assert reverse("projects:monitor-index") in page


def test_owner_sees_only_its_own_projects_and_no_oversight(client, investor, make_project, collective):
    from directory.models import Organization

    make_project(status=ProjectStatus.SUBMITTED)  # owned by the investor's organization
    make_project(
        status=ProjectStatus.SUBMITTED, owner=Organization.objects.get(pk=collective.organization_id)
    )
    client.force_login(investor)
    page = client.get(reverse("projects:index")).content.decode()
    assert 'id="stat-submitted">1<' in page
    assert reverse("projects:red-lines") not in page
    assert 'id="stat-alerts"' not in page


def test_bank_officer_sees_no_projects(client, bank_officer, make_project):
    make_project(status=ProjectStatus.ADMITTED, admitted_on="2026-02-01")
    client.force_login(bank_officer)
    page = client.get(reverse("projects:index")).content.decode()
    assert 'id="stat-admitted">0<' in page
    assert reverse("projects:gep-balance-list") not in page
