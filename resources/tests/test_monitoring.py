import datetime

import pytest

from resources import services
from resources.models import AssetObservation
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

D = datetime.date


def test_series_is_recorded_and_shown(client, make_asset, county_staff):
    asset = make_asset()
    for year, stock in ((2022, "820.5"), (2024, "861"), (2023, "840")):
        services.record_observation(
            actor=county_staff, asset=asset, observed_on=D(year, 6, 30), quantity=stock, source="二类调查"
        )
    client.force_login(county_staff)
    html = client.get(asset.get_absolute_url()).content.decode()
    assert '[["2022-06-30", 820.5], ["2023-06-30", 840.0], ["2024-06-30", 861.0]]' in html
    asset.refresh_from_db()
    assert asset.quantity is None  # the registered quantity is not overwritten by monitoring


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"observed_on": D(2999, 1, 1)}, "observed_on"),
        ({"source": " "}, "source"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": None}, "quantity"),
    ],
)
def test_bad_observations_are_refused(make_asset, county_staff, fields, field):
    data = {"observed_on": D(2025, 1, 1), "source": "实地核查", "quantity": "10", **fields}
    with pytest.raises(DomainError) as excinfo:
        services.record_observation(actor=county_staff, asset=make_asset(), **data)
    assert field in excinfo.value.fields
    assert not AssetObservation.objects.exists()


def test_duplicate_and_unauthorised_observations(make_asset, county_staff, bank_officer):
    asset = make_asset()
    services.record_observation(
        actor=county_staff, asset=asset, observed_on=D(2025, 1, 1), source="遥感", quantity=1
    )
    with pytest.raises(ConflictError, match="已有监测记录"):
        services.record_observation(
            actor=county_staff, asset=asset, observed_on=D(2025, 1, 1), source="遥感", quantity=2
        )
    with pytest.raises(PermissionDeniedError):
        services.record_observation(
            actor=bank_officer, asset=asset, observed_on=D(2025, 1, 2), source="遥感", quantity=2
        )
    assert AssetObservation.objects.count() == 1


def test_web_form(client, make_asset, county_staff):
    asset = make_asset()
    client.force_login(county_staff)
    response = client.post(
        f"/resources/assets/{asset.pk}/observations/",
        {"observed_on": "2025-03-01", "quantity": "12.5", "source": "实地核查"},
        follow=True,
    )
    assert "监测记录已保存" in response.content.decode()
    assert AssetObservation.objects.get().quantity == 12.5
