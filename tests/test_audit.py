"""History rows are written by database triggers and carry who/where/why."""

import pghistory.models

from directory.models import Membership, Organization, Role
from directory.services import issue_api_token
from tmcs.audit import audit_context


def _latest_context(model, pk):
    event = model.pgh_event_model.objects.filter(pgh_obj_id=pk).order_by("-pgh_id").first()
    return event, (event.pgh_context.metadata if event.pgh_context else {})


def test_service_writes_are_tagged_with_user_and_reason(city_admin, county_cooperative):
    with audit_context(user=city_admin, reason="任命"):
        membership = Membership.objects.create(
            user=city_admin, organization=county_cooperative, role=Role.AUDITOR
        )
    event, meta = _latest_context(Membership, membership.pk)
    assert event.pgh_label == "insert"
    assert meta["user"] == city_admin.pk
    assert meta["username"] == "city_admin"
    assert meta["reason"] == "任命"


def test_history_records_before_and_after(city_admin, county_cooperative):
    with audit_context(user=city_admin, reason="rename"):
        county_cooperative.name = "莲都区两山合作社"
        county_cooperative.save()
    events = Organization.pgh_event_model.objects.filter(pgh_obj_id=county_cooperative.pk).order_by("pgh_id")
    assert [e.name for e in events] == ["莲都区两山合作社（演示）", "莲都区两山合作社"]
    diff = pghistory.models.Events.objects.references(county_cooperative).filter(pgh_label="update").first()
    assert diff.pgh_diff["name"] == ["莲都区两山合作社（演示）", "莲都区两山合作社"]


def test_deletions_are_kept(city_admin, county_cooperative):
    membership = Membership.objects.create(
        user=city_admin, organization=county_cooperative, role=Role.AUDITOR
    )
    pk = membership.pk
    with audit_context(user=city_admin, reason="离任"):
        membership.delete()
    event, meta = _latest_context(Membership, pk)
    assert event.pgh_label == "delete"
    assert meta["reason"] == "离任"


def test_web_request_tags_history_with_user_url_and_ip(client, demo_region, county_cooperative):
    from directory.models import User

    admin = User.objects.get(username="admin")
    client.force_login(admin)
    url = f"/admin/directory/organization/{county_cooperative.pk}/change/"
    response = client.post(
        url,
        {
            "name": "莲都区两山合作社",
            "kind": county_cooperative.kind,
            "division": county_cooperative.division_id,
            "uscc": county_cooperative.uscc,
            "contact_name": "张三",
            "is_active": "on",
        },
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event, meta = _latest_context(Organization, county_cooperative.pk)
    assert event.contact_name == "张三"
    assert meta == {"user": admin.pk, "username": "admin", "url": url, "method": "POST", "ip": "10.1.2.3"}


def test_api_token_issue_is_attributed(city_admin):
    token, _raw = issue_api_token(user=city_admin, name="audit")
    _event, meta = _latest_context(type(token), token.pk)
    assert meta["reason"] == "issue API token"
    assert meta["user"] == city_admin.pk
