"""How things appear in the public part of the journal: organizations by name, persons masked,
assets by code, type and place. Used by each app's journaling module."""


def mask_person_name(name):
    """张三 → 张*, 欧阳娜娜 → 欧***: enough for the holder to recognise, not to identify."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def party_label(party):
    if party is None:
        return None
    if party.organization_id:
        return party.organization.name
    return mask_person_name(party.person.name)


def asset_public(asset):
    return {
        "code": asset.code,
        "type": asset.resource_type.name,
        "division": asset.division.name,
        "area_mu": asset.area_mu,
    }


def period_public(period):
    if period is None:
        return None
    return [period.lower, period.upper]
