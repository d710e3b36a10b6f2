import pytest

from directory.demo import load_demo_region
from directory.models import AdministrativeDivision, DivisionLevel, Membership, Organization, User
from directory.selectors import divisions_for, reach_prefixes
from directory.services import DivisionImportError, import_divisions_csv

HEADER = "code,name,level,parent_code\n"


def test_demo_region_loads_lishui_and_its_nine_counties(demo_region):
    lishui = AdministrativeDivision.objects.get(code="331100000000")
    assert lishui.name == "丽水市" and lishui.level == DivisionLevel.CITY
    counties = AdministrativeDivision.objects.filter(parent=lishui)
    assert counties.count() == 9
    assert set(counties.values_list("level", flat=True)) == {DivisionLevel.COUNTY}
    assert AdministrativeDivision.objects.get(code="331181000000").short_code == "331181"  # 龙泉市


def test_demo_region_is_idempotent(demo_region):
    counts = (
        AdministrativeDivision.objects.count(),
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    accounts = load_demo_region(password="another-password-1")
    assert all(a.password is None for a in accounts)  # existing users keep their passwords
    assert counts == (
        AdministrativeDivision.objects.count(),
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    assert User.objects.get(username="city_admin").check_password("Test-password-2026")


def test_demo_accounts_cover_every_role(demo_region):
    from directory.models import Role

    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)


def test_townships_and_villages_import_under_the_demo_region(demo_region):
    result = import_divisions_csv(
        text=HEADER + "331102001,示范街道,township,331102\n331102001001,示范社区,village,331102001\n"
    )
    assert (result.created, result.updated) == (2, 0)
    village = AdministrativeDivision.objects.get(code="331102001001")
    assert village.parent.code == "331102001000"
    assert village.parent.parent.name == "莲都区"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("331102001,街道,township,339999\n", "上级区划 339999000000 不存在"),
        ("331199,某县,county,331100\n331199,重复,county,331100\n", "与第3行重复"),
        ("331100,丽水,county,330000\n", "与级别“县（市、区）”不符"),
        ("3311,丽水,city,330000\n", "6、9或12位数字"),
        ("331102001,街道,planet,331102\n", "未知级别"),
        ("331122001,街道,township,331102\n", "不属于上级区划"),
        ("331102001,,township,331102\n", "名称不能为空"),
        ("331102001,街道,township,331102001\n", "级别必须高于本级"),
    ],
)
def test_broken_rows_are_reported_and_nothing_is_written(demo_region, rows, message):
    before = AdministrativeDivision.objects.count()
    good_row = "331102002,好的一行,township,331102\n"
    with pytest.raises(DivisionImportError) as excinfo:
        import_divisions_csv(text=HEADER + good_row + rows)
    assert message in str(excinfo.value)
    assert excinfo.value.errors[0].line >= 3  # the good row is line 2, the header line 1
    assert AdministrativeDivision.objects.count() == before


def test_wrong_header_is_refused(db):
    with pytest.raises(DivisionImportError, match="表头"):
        import_divisions_csv(text="编码,名称\n331100,丽水\n")


def test_reimport_updates_names_in_place(demo_region):
    result = import_divisions_csv(text=HEADER + "331102,莲都区（新名）,county,331100\n")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert AdministrativeDivision.objects.get(code="331102000000").name == "莲都区（新名）"


def test_reach_is_the_organization_subtree(demo_region):
    staff = User.objects.get(username="coop_staff")
    assert reach_prefixes(staff) == ["331102"]
    assert list(divisions_for(staff).values_list("code", flat=True)) == [
        "331102000000",
        "331102199000",
        "331102199201",  # 莲都区 and the demo township and village
    ]
    city_admin = User.objects.get(username="city_admin")
    assert divisions_for(city_admin).count() == 12
    outsider = User.objects.create_user(username="outsider", password="x-very-long-1")
    assert divisions_for(outsider).count() == 0
