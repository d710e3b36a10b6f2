"""The starting eco-product catalog (生态产品目录): the types the Lishui cooperatives work with.

Each type declares its unit, whether it needs a geometry, which types it may not overlap in space,
the JSON Schema of its attributes, and the GEP indicator keys it contributes to (the valuation
engine reads these keys). Catalog managers add types and edit them on the catalog pages
(resources.catalog_services).
"""

from django.utils.translation import gettext_lazy as _

# The GEP indicator keys a resource type may name (domain/gep-methods.md §3). The valuation
# engine's indicators use the same keys; a key outside this table is refused by the catalog service.
# key: (category, label)
GEP_INDICATORS = {
    # 物质产品
    "agricultural_products": ("material", _("农业产品")),
    "timber": ("material", _("林业产品（木材）")),
    "livestock_products": ("material", _("畜牧业产品")),
    "fishery_products": ("material", _("渔业产品")),
    "water_supply": ("material", _("水资源")),
    "hydropower": ("material", _("水电")),
    # 调节服务
    "water_conservation": ("regulating", _("水源涵养")),
    "soil_retention": ("regulating", _("土壤保持")),
    "wind_sand_fixation": ("regulating", _("防风固沙")),
    "flood_regulation": ("regulating", _("洪水调蓄")),
    "air_purification": ("regulating", _("空气净化")),
    "water_purification": ("regulating", _("水质净化")),
    "carbon_sequestration": ("regulating", _("固碳")),
    "oxygen_release": ("regulating", _("释氧")),
    "climate_regulation": ("regulating", _("气候调节")),
    "pest_control": ("regulating", _("病虫害控制")),
    "negative_ions": ("regulating", _("负氧离子")),
    # 文化服务
    "landscape_recreation": ("cultural", _("休闲旅游/景观游憩")),
    "landscape_premium": ("cultural", _("景观价值")),
    "cultural_heritage": ("cultural", _("文化遗产")),
}

_INT = {"type": "integer", "minimum": 0}
_NUM = {"type": "number", "minimum": 0}


def _schema(properties, required=()):
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": True,
    }


LAND = "land"  # parcels of land use may not overlap one another

STARTING_CATALOG = [
    # code, name, family, unit, geometry_required, overlap_group, schema, gep indicators
    (
        "forest",
        "林地",
        "forest",
        "亩",
        True,
        LAND,
        _schema(
            {
                "dominant_species": {"type": "string", "title": "优势树种"},
                "age_class": {
                    "type": "string",
                    "enum": ["幼龄林", "中龄林", "近熟林", "成熟林", "过熟林"],
                    "title": "龄组",
                },
                "stock_volume_m3": {**_NUM, "title": "蓄积量（m³）"},
                "canopy_density": {"type": "number", "minimum": 0, "maximum": 1, "title": "郁闭度"},
                "forest_class": {"type": "string", "enum": ["公益林", "商品林"], "title": "林种"},
                "compartment": {"type": "string", "title": "林班/小班"},
            },
            ["dominant_species", "age_class"],
        ),
        [
            "timber",
            "water_conservation",
            "soil_retention",
            "carbon_sequestration",
            "oxygen_release",
            "air_purification",
            "climate_regulation",
        ],
    ),
    (
        "farmland",
        "耕地",
        "farmland",
        "亩",
        True,
        LAND,
        _schema(
            {
                "land_class": {"type": "string", "title": "地类（GB/T 21010）"},
                "soil_grade": {"type": "integer", "minimum": 1, "maximum": 10, "title": "耕地质量等级"},
                "irrigated": {"type": "boolean", "title": "是否可灌溉"},
                "crop": {"type": "string", "title": "种植作物"},
            },
            ["land_class"],
        ),
        ["agricultural_products", "soil_retention"],
    ),
    (
        "tea_garden",
        "茶园",
        "farmland",
        "亩",
        True,
        LAND,
        _schema(
            {
                "variety": {"type": "string", "title": "品种"},
                "planted_year": {"type": "integer", "minimum": 1900, "maximum": 2100, "title": "种植年份"},
                "organic_certified": {"type": "boolean", "title": "有机认证"},
            }
        ),
        ["agricultural_products", "soil_retention", "landscape_recreation"],
    ),
    (
        "grassland",
        "草地",
        "grassland",
        "亩",
        True,
        LAND,
        _schema({}),
        ["soil_retention", "carbon_sequestration"],
    ),
    (
        "water_body",
        "水域",
        "water",
        "亩",
        True,
        LAND,
        _schema(
            {
                "water_quality_class": {
                    "type": "string",
                    "enum": ["I", "II", "III", "IV", "V", "劣V"],
                    "title": "水质类别",
                },
                "storage_capacity_m3": {**_NUM, "title": "库容（m³）"},
            }
        ),
        ["water_supply", "flood_regulation", "climate_regulation", "landscape_recreation"],
    ),
    (
        "homestead",
        "闲置宅基地",
        "homestead",
        "m²",
        True,
        LAND,
        _schema(
            {
                "qualification_holder_household": {"type": "string", "title": "资格权户"},
                "idle_since": {"type": "integer", "minimum": 1950, "maximum": 2100, "title": "闲置起始年份"},
            }
        ),
        ["landscape_recreation"],
    ),
    (
        "farmhouse",
        "闲置农房",
        "homestead",
        "m²",
        True,
        "building",
        _schema(
            {
                "floor_area_m2": {**_NUM, "title": "建筑面积（m²）"},
                "storeys": {"type": "integer", "minimum": 1, "maximum": 10, "title": "层数"},
                "structure": {
                    "type": "string",
                    "enum": ["砖木", "砖混", "框架", "土木", "木结构"],
                    "title": "结构",
                },
                "condition": {
                    "type": "string",
                    "enum": ["完好", "基本完好", "一般损坏", "严重损坏", "危房"],
                    "title": "房屋状况",
                },
                "built_year": {"type": "integer", "minimum": 1600, "maximum": 2100, "title": "建成年份"},
            },
            ["floor_area_m2", "storeys", "condition"],
        ),
        ["landscape_recreation"],
    ),
    (
        "ancient_village",
        "古村落",
        "heritage",
        "处",
        True,
        "heritage",
        _schema(
            {
                "protection_level": {"type": "string", "title": "保护级别"},
                "listed_buildings": {**_INT, "title": "传统建筑数量"},
            }
        ),
        ["landscape_recreation", "cultural_heritage"],
    ),
    (
        "collective_building",
        "集体经营性建筑",
        "collective_asset",
        "m²",
        True,
        "building",
        _schema(
            {
                "floor_area_m2": {**_NUM, "title": "建筑面积（m²）"},
                "use": {"type": "string", "title": "用途"},
            },
            ["floor_area_m2"],
        ),
        [],
    ),
    (
        "collective_construction_land",
        "集体经营性建设用地",
        "collective_asset",
        "m²",
        True,
        LAND,
        _schema(
            {
                "planned_use": {
                    "type": "string",
                    "enum": ["工业", "商业", "旅游", "其他"],
                    "title": "规划用途",
                },
            },
            ["planned_use"],
        ),
        [],
    ),
    (
        "shoreline",
        "河道岸线",
        "shoreline",
        "m",
        True,
        "shoreline",
        _schema(
            {
                "length_m": {**_NUM, "title": "长度（m）"},
                "river": {"type": "string", "title": "河流"},
            },
            ["length_m"],
        ),
        ["landscape_recreation", "flood_regulation"],
    ),
    (
        "weir",
        "堰坝",
        "facility",
        "座",
        True,
        "facility",
        _schema(
            {
                "height_m": {**_NUM, "title": "坝高（m）"},
            }
        ),
        ["water_supply", "landscape_recreation"],
    ),
    ("fishing_port", "渔港", "facility", "座", True, "facility", _schema({}), ["fishery_products"]),
    (
        "abandoned_mine",
        "废弃矿山",
        "mine",
        "亩",
        True,
        LAND,
        _schema(
            {
                "restoration_status": {
                    "type": "string",
                    "enum": ["未修复", "修复中", "已修复"],
                    "title": "修复状态",
                },
            }
        ),
        ["soil_retention"],
    ),
    (
        "forest_carbon",
        "林业碳汇",
        "carbon",
        "tCO₂e",
        False,
        "",
        _schema(
            {
                "methodology": {"type": "string", "title": "方法学（如 CCER-14-001-V01）"},
                "crediting_start": {"type": "string", "format": "date", "title": "计入期开始"},
                "crediting_end": {"type": "string", "format": "date", "title": "计入期结束"},
            },
            ["methodology"],
        ),
        ["carbon_sequestration"],
    ),
    (
        "water_right",
        "取水权",
        "water_right",
        "万m³/年",
        False,
        "",
        _schema(
            {
                "permit_number": {"type": "string", "title": "取水许可证号"},
                "annual_volume_10k_m3": {**_NUM, "title": "年取水量（万m³）"},
                "permit_expires": {"type": "string", "format": "date", "title": "许可有效期至"},
            },
            ["permit_number", "annual_volume_10k_m3"],
        ),
        ["water_supply"],
    ),
]


def seed_catalog(ResourceType):
    for code, name, family, unit, geometry_required, group, schema, indicators in STARTING_CATALOG:
        ResourceType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "family": family,
                "unit": unit,
                "geometry_required": geometry_required,
                "overlap_group": group,
                "attribute_schema": schema,
                "gep_indicators": indicators,
            },
        )
