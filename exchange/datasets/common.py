"""Pieces several datasets share: finding assets and divisions named in a file, holders by their
identifiers (organizations by USCC, persons by the keyed hash of their ID number), writing holders'
identifiers into exports (full only where the exporting user may see them), and the one asset
write the registry's services do not offer yet (name, quantity, grade and attributes)."""

import contextlib

from django.utils.translation import gettext as _

from directory.models import AdministrativeDivision, Organization
from directory.permissions import Capability, can
from directory.selectors import persons_for
from directory.services import create_person, ensure_party, ensure_party_for_person
from resources.models import Asset
from tmcs import crypto
from tmcs.errors import DomainError
from tmcs.ids import IdentifierError, normalize_national_id, normalize_uscc

# --- references named in a file -----------------------------------------------------------------


def divisions_by_code(codes):
    codes = {str(c) for c in codes if c}
    return {d.code: d for d in AdministrativeDivision.objects.filter(code__in=codes).defer("boundary")}


def assets_by_code(codes, *, geometry=False):
    """Assets named in a file, with type and division (one query)."""
    codes = {str(c) for c in codes if c}
    assets = Asset.objects.filter(code__in=codes).select_related("resource_type", "division")
    if not geometry:
        assets = assets.defer("geometry", "division__boundary")
    else:
        assets = assets.defer("division__boundary")
    return {a.code: a for a in assets}


def check_asset(context, code, assets, column, capability=None):
    """(asset or None, [(column, message)]): the asset must exist and lie in the exchange's division
    (outside it, it is reported as not found: its existence is not the importer's business)."""
    if not code:
        return None, []
    asset = assets.get(code)
    if asset is None or not context.covers(asset.division):
        return None, [(column, _("资源编号“%(code)s”不存在或不在本次交换的区划内。") % {"code": code})]
    if capability is not None and not can(context.actor, capability, division=asset.division):
        return None, [(column, _("您无权修改资源 %(code)s 的登记信息。") % {"code": code})]
    return asset, []


def check_division(context, code, divisions, column):
    if not code:
        return None, []
    division = divisions.get(str(code))
    if division is None:
        return None, [(column, _("行政区划代码“%(code)s”不存在。") % {"code": code})]
    if not context.covers(division):
        return None, [(column, _("“%(name)s”不在本次交换的区划内。") % {"name": division.name})]
    return division, []


# --- holders ------------------------------------------------------------------------------------


def holder_identifier(party, user, revealed):
    """What an export says about a holder: an organization's USCC; a person's ID number in full
    when `user` may see full identifiers in the person's division (the person is then added to
    `revealed`, for the personal-data access log), else masked."""
    if party is None:
        return ""
    if party.organization_id:
        return party.organization.uscc or ""
    person = party.person
    if can(user, Capability.VIEW_FULL_IDENTIFIERS, division=person.division):
        revealed.add(person.pk)
        return crypto.decrypt(person.national_id_ciphertext)
    return person.national_id_masked


def holder_name(party):
    if party is None:
        return ""
    return party.organization.name if party.organization_id else party.person.name


def _readings(raw):
    """An 18-character identifier can be a valid USCC and a valid resident ID at once: both."""
    readings = []
    for kind, normalise in (("uscc", normalize_uscc), ("national_id", normalize_national_id)):
        with contextlib.suppress(IdentifierError):
            readings.append((kind, normalise(raw)))
    return readings


class HolderIndex:
    """Organizations by USCC (institutions are public) and persons by keyed hash, limited to the
    persons the importer may see; looked up in two queries for a whole file."""

    def __init__(self, actor, identifiers):
        self.actor = actor
        usccs, hashes = set(), {}
        for raw in identifiers:
            for kind, key in _readings(str(raw or "")):
                if kind == "uscc":
                    usccs.add(key)
                else:
                    hashes[crypto.lookup_hash("national_id", key)] = key
        self.organizations = {o.uscc: o for o in Organization.objects.filter(uscc__in=usccs)}
        self.persons = {
            hashes[p.national_id_hash]: p
            for p in persons_for(actor).filter(national_id_hash__in=hashes).defer("division__boundary")
        }

    def find(self, raw):
        """(organization or person or None, normalised national ID a new person could be created
        with or None, error message or None)."""
        raw = str(raw or "").strip()
        if "*" in raw:
            return None, None, _("证件号已脱敏，无法识别权利人；请使用完整证件号。")
        readings = _readings(raw)
        if not readings:
            return None, None, _("证件号既不是有效的统一社会信用代码，也不是有效的身份证号。")
        for kind, key in readings:
            found = self.organizations.get(key) if kind == "uscc" else self.persons.get(key)
            if found is not None:
                return found, None, None
        national_ids = [key for kind, key in readings if kind == "national_id"]
        if national_ids:
            return None, national_ids[0], None
        return None, None, _("机构（%(uscc)s）未在主体名录中登记。") % {"uscc": readings[0][1]}

    def party(self, raw, *, name, division):
        """The holder's party, creating the person (through directory.services) when the file
        names a new one; the created person is remembered for later rows."""
        found, national_id, error = self.find(raw)
        if error:
            raise DomainError(error, code="invalid", fields={"holder_id": [error]})
        if found is None:
            found = create_person(actor=self.actor, name=name, division=division, national_id=national_id)
            self.persons[national_id] = found
        if isinstance(found, Organization):
            return ensure_party(found)
        return ensure_party_for_person(found)


def same_party(party, raw, index):
    """Does the party hold the identifier `raw` (as resolved by `index`)?"""
    found, _new, _error = index.find(raw)
    if found is None or party is None:
        return False
    if isinstance(found, Organization):
        return party.organization_id == found.pk
    return party.person_id == found.pk
