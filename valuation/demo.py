"""Demo GEP accounting for the demo village: inputs of plausible Lishui magnitudes for the demo
forest and the township, two accepted runs (2024, 2025) so that the run page has a trend.

The numbers are invented for demonstration (labelled 演示 in their source) and use the shipped
example parameter set; they are not statistics of any real place."""

from django.db import transaction

from directory.models import AdministrativeDivision, User
from resources.models import Asset

from . import services
from .models import AccountingRun

SOURCE = "演示数据"
FOREST = {  # indicator → {input: (value, unit)}; the parcel's area comes from PostGIS
    "water_conservation": {"precipitation": "mm", "runoff": "mm", "evapotranspiration": "mm"},
    "carbon_sequestration": {"npp_dry_matter": "g_dm_per_m2"},
    "oxygen_release": {"npp_dry_matter": "g_dm_per_m2"},
    "soil_retention": {"potential_erosion": "t_per_hm2", "actual_erosion": "t_per_hm2"},
}
YEARS = {
    2024: {
        "precipitation": "1690",
        "runoff": "410",
        "evapotranspiration": "790",
        "npp_dry_matter": "1180",
        "potential_erosion": "176",
        "actual_erosion": "6.5",
        "visits": "5600",
        "travel_cost_per_visit": "150",
    },
    2025: {
        "precipitation": "1760",
        "runoff": "430",
        "evapotranspiration": "780",
        "npp_dry_matter": "1215",
        "potential_erosion": "181",
        "actual_erosion": "6.1",
        "visits": "6200",
        "travel_cost_per_visit": "155",
    },
}


@transaction.atomic
def load_demo_valuation():
    """Idempotent: does nothing when the demo runs exist."""
    staff = User.objects.get(username="coop_staff")
    admin = User.objects.get(username="city_admin")
    county = AdministrativeDivision.objects.get(code="331102000000")
    township = AdministrativeDivision.objects.get(code="331102199000")
    forest = Asset.objects.filter(name="示范村后山杉木林（演示）").first()
    parameter_set = services.load_default_parameter_set(actor=admin)
    if forest is None or AccountingRun.objects.filter(division=county, created_by=staff).exists():
        return []
    runs = []
    for year, values in YEARS.items():
        for indicator, inputs in FOREST.items():
            for key, unit in inputs.items():
                services.record_input(
                    actor=staff,
                    asset=forest,
                    year=year,
                    indicator_key=indicator,
                    input_key=key,
                    value=values[key],
                    unit=unit,
                    source=SOURCE,
                )
        for key, unit in (("visits", "person_visits"), ("travel_cost_per_visit", "yuan_per_visit")):
            services.record_input(
                actor=staff,
                division=township,
                year=year,
                indicator_key="landscape_recreation",
                input_key=key,
                value=values[key],
                unit=unit,
                source=SOURCE,
            )
        run = services.start_run(actor=staff, division=county, year=year, parameter_set=parameter_set)
        for number in range(run.chunk_count):  # in-process: the demo must not wait for a worker
            services.process_chunk(run.pk, number)
        run = services.finalize_run(run.pk)
        runs.append(services.accept_run(actor=admin, run=run))
    return runs
