"""The licence page: the desk suspends with a reason (in Chinese when refused); producers read only."""

import pytest

from ..models import LicenceAction, LicenceStatus

pytestmark = pytest.mark.django_db


def test_the_desk_suspends_a_licence_from_its_page(client, make_licence, county_staff):
    licence = make_licence()
    client.force_login(county_staff)
    url = f"/brand/licences/{licence.number}/"
    assert 'id="suspend-button"' in client.get(url).content.decode()
    page = client.post(f"{url}suspend/", {"reason": ""}, follow=True).content.decode()
    assert "请填写暂停原因" in page
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.ACTIVE and LicenceAction.objects.count() == 1
    page = client.post(f"{url}suspend/", {"reason": "抽检不合格"}, follow=True).content.decode()
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.SUSPENDED and "抽检不合格" in page


def test_producers_read_but_cannot_suspend_and_outsiders_get_404(
    client, make_licence, producer_user, bank_officer
):
    licence = make_licence()
    client.force_login(producer_user)
    url = f"/brand/licences/{licence.number}/"
    page = client.get(url).content.decode()
    assert licence.number in page and 'id="suspend-button"' not in page
    assert client.post(f"{url}suspend/", {"reason": "越权"}).status_code == 403
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.ACTIVE
    client.force_login(bank_officer)
    assert client.get(url).status_code == 404
