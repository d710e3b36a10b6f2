"""生态产品目录: catalog managers add and edit resource types; a type in use is never changed into
one that its assets break."""

import json
import threading
import time

import pytest
from django.db import connection
from jsonschema import Draft202012Validator

from directory.models import AdministrativeDivision, OrganizationKind, Role, User
from directory.services import create_organization
from resources import catalog_services, services
from resources.catalog import GEP_INDICATORS, STARTING_CATALOG
from resources.models import Asset, ResourceType
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .conftest import square

BAMBOO_SCHEMA = {
    "type": "object",
    "properties": {
        "culm_density": {"type": "integer", "minimum": 0, "title": "立竹度（株/亩）"},
        "variety": {"type": "string", "title": "竹种"},
    },
    "required": ["variety"],
}


def bamboo(**overrides):
    return {
        "code": "bamboo_forest",
        "name": "竹林",
        "family": "forest",
        "unit": "亩",
        "geometry_required": True,
        "overlap_group": "land",
        "attribute_schema": BAMBOO_SCHEMA,
        "gep_indicators": ["timber", "carbon_sequestration"],
        "is_active": True,
        **overrides,
    }


def form_data(**overrides):
    """The same type as the web form posts it (checkboxes present only when ticked)."""
    data = bamboo(**overrides)
    if not isinstance(data["attribute_schema"], str):
        data["attribute_schema"] = json.dumps(data["attribute_schema"], ensure_ascii=False)
    for box in ("geometry_required", "is_active"):
        if data.pop(box):
            data[box] = "on"
    return data


def test_seeded_catalog_names_only_known_indicators(catalog):
    for code, *_rest, indicators in STARTING_CATALOG:
        assert set(indicators) <= set(GEP_INDICATORS), code
    for resource_type in ResourceType.objects.all():
        catalog_services.check_attribute_schema(resource_type.attribute_schema)  # all valid objects


def test_city_admin_adds_a_type_through_the_form(client, city_admin, catalog):
    client.force_login(city_admin)
    assert client.get("/resources/catalog/new/").status_code == 200
    response = client.post("/resources/catalog/new/", form_data())
    bamboo_type = ResourceType.objects.get(code="bamboo_forest")
    assert response.status_code == 302 and response["Location"] == bamboo_type.get_absolute_url()
    assert bamboo_type.attribute_schema == BAMBOO_SCHEMA
    assert bamboo_type.gep_indicators == ["timber", "carbon_sequestration"]
    assert bamboo_type.geometry_required and bamboo_type.is_active and bamboo_type.overlap_group == "land"
    event = ResourceType.pgh_event_model.objects.filter(pgh_obj_id=bamboo_type.pk).latest("pgh_id")
    assert event.pgh_context.metadata["reason"] == "add resource type bamboo_forest"
    assert event.pgh_context.metadata["username"] == "city_admin"
    listing = client.get("/resources/catalog/?q=bamboo").content.decode()
    assert "竹林" in listing and "timber, carbon_sequestration" in listing and "land" in listing
    detail = client.get(bamboo_type.get_absolute_url()).content.decode()
    assert "立竹度（株/亩）" in detail and "固碳" in detail and "/edit/" in detail


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"attribute_schema": {"type": "object", "properties": {"x": {"type": "nonsense"}}}},
            "attribute_schema",
            "不是有效的 JSON Schema",
        ),
        (
            {"attribute_schema": {"type": "object", "required": "variety"}},
            "attribute_schema",
            "不是有效的 JSON Schema",
        ),
        (
            {"attribute_schema": {"type": "array", "items": {"type": "string"}}},
            "attribute_schema",
            "描述一个对象",
        ),
        ({"attribute_schema": {"properties": {"x": {"type": "string"}}}}, "attribute_schema", "描述一个对象"),
        ({"attribute_schema": ["not", "an", "object"]}, "attribute_schema", "JSON 对象"),
        (
            {
                "attribute_schema": {
                    "type": "object",
                    "properties": {"x": {"$ref": "https://example.com/s.json"}},
                }
            },
            "attribute_schema",
            "$ref",
        ),
        (
            {"attribute_schema": {"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}}},
            "attribute_schema",
            "$ref",
        ),
        ({"gep_indicators": ["timber", "gdp_growth"]}, "gep_indicators", "gdp_growth"),
        ({"code": "Bamboo Forest"}, "code", "小写字母"),
        ({"code": "竹林"}, "code", "小写字母"),
        ({"code": ""}, "code", "小写字母"),
        ({"name": " "}, "name", "请填写名称"),
        ({"family": "moon"}, "family", "类别"),
        ({"unit": ""}, "unit", "计量单位"),
        ({"overlap_group": "Land Use"}, "overlap_group", "空间互斥组"),
    ],
)
def test_bad_types_are_refused_and_nothing_is_written(city_admin, catalog, overrides, field, message):
    before = ResourceType.objects.count()
    with pytest.raises(DomainError) as excinfo:
        catalog_services.create_resource_type(actor=city_admin, **bamboo(**overrides))
    assert field in excinfo.value.fields
    assert message in " ".join(str(m) for m in excinfo.value.fields[field])
    assert ResourceType.objects.count() == before


def test_a_local_ref_that_resolves_is_accepted(city_admin, catalog):
    schema = {
        "type": "object",
        "$defs": {"grade": {"type": "integer", "minimum": 1, "maximum": 5}},
        "properties": {"grade": {"$ref": "#/$defs/grade"}},
    }
    created = catalog_services.create_resource_type(actor=city_admin, **bamboo(attribute_schema=schema))
    assert created.attribute_schema == schema


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [({"code": "forest"}, "code", "编码已被使用"), ({"name": "林地"}, "name", "名称已被使用")],
)
def test_duplicate_code_or_name(city_admin, catalog, overrides, field, message):
    before = ResourceType.objects.count()
    with pytest.raises(ConflictError, match=message) as excinfo:
        catalog_services.create_resource_type(actor=city_admin, **bamboo(**overrides))
    assert field in excinfo.value.fields
    assert ResourceType.objects.count() == before


def test_empty_schema_means_an_open_object(city_admin, catalog):
    created = catalog_services.create_resource_type(actor=city_admin, **bamboo(attribute_schema={}))
    assert created.attribute_schema["type"] == "object"
    services.validate_attributes(created, {"anything": 1})


def test_form_errors_are_shown_in_place(client, city_admin, catalog):
    client.force_login(city_admin)
    response = client.post("/resources/catalog/new/", form_data(attribute_schema="{not json"))
    assert response.status_code == 400 and "不是有效的 JSON" in response.content.decode()
    response = client.post("/resources/catalog/new/", form_data(attribute_schema='{"type": "array"}'))
    assert response.status_code == 400 and "描述一个对象" in response.content.decode()
    response = client.post("/resources/catalog/new/", form_data(code="forest"))
    assert response.status_code == 400 and "编码已被使用" in response.content.decode()
    response = client.post("/resources/catalog/new/", {**form_data(), "gep_indicators": ["gdp"]})
    assert response.status_code == 400  # not one of the choices
    assert not ResourceType.objects.filter(code="bamboo_forest").exists()


def test_editing_a_type_in_use_cannot_break_its_assets(city_admin, make_asset, forest_type):
    asset = make_asset()  # {"dominant_species": "杉木", "age_class": "中龄林"}
    original = dict(forest_type.attribute_schema)
    stricter = {
        **original,
        "required": [*original["required"], "stock_volume_m3"],
    }
    fields = {
        name: getattr(forest_type, name)
        for name in ("name", "family", "unit", "geometry_required", "overlap_group", "gep_indicators")
    }
    with pytest.raises(ConflictError, match=asset.code) as excinfo:
        catalog_services.update_resource_type(
            actor=city_admin, resource_type=forest_type, attribute_schema=stricter, **fields
        )
    assert excinfo.value.fields["attribute_schema"] == [asset.code]
    narrower = {
        **original,
        "properties": {**original["properties"], "age_class": {"type": "string", "enum": ["成熟林"]}},
    }
    with pytest.raises(ConflictError, match="1 个已有资源"):
        catalog_services.update_resource_type(
            actor=city_admin, resource_type=forest_type, attribute_schema=narrower, **fields
        )
    forest_type.refresh_from_db()
    assert forest_type.attribute_schema == original
    # A compatible change (a new optional attribute) is saved and audited.
    wider = {**original, "properties": {**original["properties"], "owner_note": {"type": "string"}}}
    catalog_services.update_resource_type(
        actor=city_admin, resource_type=forest_type, attribute_schema=wider, **fields
    )
    forest_type.refresh_from_db()
    assert "owner_note" in forest_type.attribute_schema["properties"]
    event = ResourceType.pgh_event_model.objects.filter(pgh_obj_id=forest_type.pk).latest("pgh_id")
    assert event.pgh_context.metadata["reason"] == "edit resource type forest"
    # What an edit does not name stays as it is.
    catalog_services.update_resource_type(
        actor=city_admin, resource_type=forest_type, gep_indicators=["timber"]
    )
    forest_type.refresh_from_db()
    assert forest_type.gep_indicators == ["timber"] and forest_type.attribute_schema == wider
    assert forest_type.geometry_required and forest_type.overlap_group == "land" and forest_type.is_active


def test_geometry_cannot_become_required_while_assets_have_none(city_admin, county_staff, village, catalog):
    carbon = ResourceType.objects.get(code="forest_carbon")
    pool = services.create_asset(
        actor=county_staff,
        resource_type=carbon,
        division=village,
        name="碳汇池",
        attributes={"methodology": "CCER-14-001-V01"},
    )
    assert pool.geometry is None
    fields = {
        name: getattr(carbon, name)
        for name in ("name", "family", "unit", "overlap_group", "gep_indicators", "attribute_schema")
    }
    with pytest.raises(ConflictError, match=pool.code):
        catalog_services.update_resource_type(
            actor=city_admin, resource_type=carbon, geometry_required=True, **fields
        )
    carbon.refresh_from_db()
    assert carbon.geometry_required is False


def test_moving_a_type_into_an_overlap_group_where_its_assets_overlap(
    city_admin, county_staff, make_asset, catalog
):
    orchard = catalog_services.create_resource_type(
        actor=city_admin, **bamboo(code="orchard", name="果园", overlap_group="", attribute_schema={})
    )
    a = make_asset(resource_type=orchard, attributes={}, name="果园甲", status=True)
    b = make_asset(
        resource_type=orchard, attributes={}, name="果园乙", geometry=square(dx=0.0005), status=True
    )
    forest = make_asset(name="林地", geometry=square(dx=0.0005, dy=0.0005), status=True)
    fields = {
        name: getattr(orchard, name)
        for name in ("name", "family", "unit", "geometry_required", "gep_indicators", "attribute_schema")
    }
    with pytest.raises(ConflictError, match="land") as excinfo:
        catalog_services.update_resource_type(
            actor=city_admin, resource_type=orchard, overlap_group="land", **fields
        )
    pairs = excinfo.value.fields["overlap_group"]
    assert f"{a.code} × {forest.code}" in pairs and f"{a.code} × {b.code}" in pairs
    with pytest.raises(ConflictError, match=f"{a.code} × {b.code}"):  # its own assets overlap each other
        catalog_services.update_resource_type(
            actor=city_admin, resource_type=orchard, overlap_group="orchards", **fields
        )
    orchard.refresh_from_db()
    assert orchard.overlap_group == ""
    services.transition_asset(actor=county_staff, asset=b, to_status="draft")  # drafts do not count
    catalog_services.update_resource_type(
        actor=city_admin, resource_type=orchard, overlap_group="orchards", **fields
    )


def test_edit_page_keeps_the_code_and_names_the_offending_assets(client, city_admin, make_asset, forest_type):
    asset = make_asset()
    client.force_login(city_admin)
    page = client.get(f"/resources/catalog/{forest_type.pk}/edit/").content.decode()
    assert "dominant_species" in page and "disabled" in page
    schema = {**forest_type.attribute_schema, "required": ["compartment"]}
    response = client.post(
        f"/resources/catalog/{forest_type.pk}/edit/",
        form_data(
            code="renamed", name="林地", attribute_schema=json.dumps(schema), gep_indicators=["timber"]
        ),
    )
    assert response.status_code == 400 and asset.code in response.content.decode()
    forest_type.refresh_from_db()
    assert forest_type.gep_indicators != ["timber"] and forest_type.code == "forest"
    response = client.post(
        f"/resources/catalog/{forest_type.pk}/edit/",
        form_data(
            code="renamed",
            name="林地",
            attribute_schema=json.dumps(forest_type.attribute_schema),
            gep_indicators=["timber"],
        ),
    )
    assert response.status_code == 302
    forest_type.refresh_from_db()
    assert forest_type.gep_indicators == ["timber"] and forest_type.code == "forest"


def test_who_may_see_and_manage_the_catalog(client, county_staff, bank_officer, city_admin, catalog):
    forest = ResourceType.objects.get(code="forest")
    with pytest.raises(PermissionDeniedError):
        catalog_services.create_resource_type(actor=county_staff, **bamboo())
    with pytest.raises(PermissionDeniedError):
        catalog_services.update_resource_type(actor=county_staff, resource_type=forest, **bamboo())
    client.force_login(county_staff)
    listing = client.get("/resources/catalog/")
    assert listing.status_code == 200 and "林地" in listing.content.decode()
    assert "/resources/catalog/new/" not in listing.content.decode()  # no “new” button
    detail = client.get(f"/resources/catalog/{forest.pk}/").content.decode()
    assert "/edit/" not in detail
    assert client.get("/resources/catalog/new/").status_code == 403
    assert client.post("/resources/catalog/new/", form_data()).status_code == 403
    assert client.post(f"/resources/catalog/{forest.pk}/edit/", form_data(name="改名")).status_code == 403
    assert not ResourceType.objects.filter(code="bamboo_forest").exists()
    assert ResourceType.objects.get(pk=forest.pk).name == "林地"
    client.force_login(bank_officer)
    assert client.get("/resources/catalog/").status_code == 403
    assert client.get(f"/resources/catalog/{forest.pk}/").status_code == 403
    client.force_login(User.objects.get(username="village_clerk"))
    assert client.get("/resources/catalog/").status_code == 200
    client.force_login(city_admin)
    assert "/resources/catalog/new/" in client.get("/resources/catalog/").content.decode()


def test_asset_counts_are_those_the_user_can_see(client, make_asset, make_member, forest_type, demo_region):
    make_asset()
    make_asset(geometry=square(dx=0.003), name="林地二")
    admin = User.objects.get(username="admin")
    elsewhere = create_organization(
        actor=admin,
        name="另一县合作社",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    outsider = make_member(Role.COOP_STAFF, elsewhere)

    def count(user):
        client.force_login(user)
        rows = client.get("/resources/catalog/?q=forest&sort=-asset_count").context["rows"]
        return {obj.code: obj.asset_count for obj, _cells in rows}

    assert count(User.objects.get(username="coop_staff")) == {"forest": 2, "forest_carbon": 0}
    assert count(outsider) == {"forest": 0, "forest_carbon": 0}


@pytest.mark.django_db(transaction=True)
def test_a_schema_edit_racing_an_asset_creation_never_leaves_a_broken_asset(
    city_admin, county_staff, village, forest_type, monkeypatch
):
    """create_asset reads the type FOR SHARE and the edit locks it FOR UPDATE: whichever comes first,
    the other sees it. The creation is slowed after its validation to widen the window."""
    original_validate = services.validate_attributes

    def slowed(*args, **kwargs):
        result = original_validate(*args, **kwargs)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(services, "validate_attributes", slowed)
    stricter = {**forest_type.attribute_schema, "required": ["dominant_species", "age_class", "compartment"]}
    fields = {
        name: getattr(forest_type, name)
        for name in ("name", "family", "unit", "geometry_required", "overlap_group", "gep_indicators")
    }
    outcomes = {}
    barrier = threading.Barrier(2)

    def create():
        try:
            barrier.wait(timeout=10)
            services.create_asset(
                actor=county_staff,
                resource_type=forest_type,
                division=village,
                name="赛跑林地",
                geometry=square(),
                attributes={"dominant_species": "杉木", "age_class": "中龄林"},
            )
            outcomes["create"] = "ok"
        except DomainError as exc:
            outcomes["create"] = type(exc).__name__
        finally:
            connection.close()

    def edit():
        try:
            barrier.wait(timeout=10)
            time.sleep(0.1)  # let the creation validate first: the unlocked race would now be lost
            catalog_services.update_resource_type(
                actor=city_admin, resource_type=forest_type, attribute_schema=stricter, **fields
            )
            outcomes["edit"] = "ok"
        except DomainError as exc:
            outcomes["edit"] = type(exc).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=create), threading.Thread(target=edit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) in (["ConflictError", "ok"], ["DomainError", "ok"]), outcomes
    final = Draft202012Validator(ResourceType.objects.get(pk=forest_type.pk).attribute_schema)
    assert all(final.is_valid(a.attributes) for a in Asset.objects.filter(resource_type=forest_type))
