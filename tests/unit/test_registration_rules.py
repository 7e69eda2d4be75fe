"""Pure rules of registration input: no AWS."""
import pytest

from chalicelib.base.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from chalicelib.base.validation import clean_text, parse
from chalicelib.web import MAX_BODY_BYTES, json_body
from chalicelib.registry.identity import owner_key, owner_of, premises_claim
from chalicelib.registry.schemas import AddressIn, RegistrationIn, normalise_email, normalise_postcode
from tests.conftest import registration_body


@pytest.mark.parametrize(
    "typed, expected",
    [("b3 2bj", "B3 2BJ"), ("B32BJ", "B3 2BJ"), (" sw1a  1aa ", "SW1A 1AA"), ("cv1 1aa", "CV1 1AA")],
)
def test_uk_postcodes_are_normalised(typed, expected):
    assert normalise_postcode(typed, "uk") == expected


@pytest.mark.parametrize("typed", ["B3", "12345", "BB 2BJ1", "B3 2B"])
def test_incomplete_uk_postcodes_are_refused(typed):
    with pytest.raises(ValueError, match="full UK postcode"):
        normalise_postcode(typed, "uk")


def test_other_postcode_formats_can_be_allowed():
    assert normalise_postcode("10115", "any") == "10115"


def test_the_same_premises_typed_two_ways_is_one_claim():
    # Given the same premises typed two ways
    a = AddressIn.model_validate({"line1": "12 Colmore Row", "town": "Birmingham", "postcode": "B3 2BJ"}, context={})
    b = AddressIn.model_validate({"line1": "12, COLMORE  ROW", "town": "B'ham", "postcode": "b32bj"}, context={})
    # Then both are one claim, another owner's does not collide, and the claim is a keyed hash
    assert premises_claim("ada@example.org", a.postcode, a.line1) == premises_claim("Ada@Example.org", b.postcode, b.line1)
    assert premises_claim("bob@example.org", a.postcode, a.line1) != premises_claim("ada@example.org", a.postcode, a.line1)
    assert "ada" not in premises_claim("ada@example.org", a.postcode, a.line1)


@pytest.mark.parametrize(
    "one, other",
    [
        ("straße@example.de", "STRASSE@example.de"),  # ß is not ss
        ("straße@example.de", "strasse@example.de"),
        ("İda@example.org", "ida@example.org"),  # dotted capital I is not i
        ("ıan@example.org", "IAN@example.org"),  # dotless i is not I
        ("ada@faß.de", "ada@fass.de"),  # two domains
    ],
)
def test_addresses_that_may_be_different_mailboxes_are_different_owners(one, other):
    assert owner_key(normalise_email(one)) != owner_key(normalise_email(other))
    assert owner_of(normalise_email(one)) != owner_of(normalise_email(other))


@pytest.mark.parametrize(
    "one, other",
    [
        ("Ada@Example.ORG", "ada@example.org"),  # ASCII case, local part and domain
        ("zoe\u0301@example.org", "zo\u00e9@example.org"),  # é decomposed and composed (NFC)
        ("STRAßE@EXAMPLE.DE", "straße@example.de"),  # only the ASCII letters fold
    ],
)
def test_one_address_typed_two_ways_is_one_owner(one, other):
    assert owner_key(normalise_email(one)) == owner_key(normalise_email(other))
    assert owner_of(one) == owner_of(other)


def test_every_bad_field_is_named_at_once():
    body = registration_body(
        name="", email="not-an-email", camera_count=0, retention_days=91, consent=False,
        location={"lat": 91, "lon": -1.9}, colour="blue",
    )
    with pytest.raises(ValidationError) as caught:
        parse(RegistrationIn, body)
    fields = caught.value.fields
    assert set(fields) >= {"name", "email", "camera_count", "retention_days", "consent", "location.lat", "colour"}
    assert fields["email"] == "Enter an email address like name@example.com."
    assert fields["consent"] == "You must agree to the privacy notice to register."
    assert fields["colour"] == "This field is not recognised."


@pytest.mark.parametrize("value", ["3", 2.5, True, None])
def test_camera_count_must_be_a_json_whole_number(value):
    with pytest.raises(ValidationError) as caught:
        parse(RegistrationIn, registration_body(camera_count=value))
    assert "camera_count" in caught.value.fields


def test_control_characters_are_refused_but_any_script_is_welcome():
    assert clean_text("Zoë Ångström 王秀英 محمد") == "Zoë Ångström 王秀英 محمد"
    with pytest.raises(ValueError):
        clean_text("Ada\u0000Lovelace")


def test_body_checks_come_before_parsing():
    with pytest.raises(UnsupportedMediaType):
        json_body(b"{}", "text/plain")
    with pytest.raises(PayloadTooLarge):
        json_body(b" " * (MAX_BODY_BYTES + 1), "application/json")
    with pytest.raises(ValidationError, match="not valid JSON"):
        json_body(b"{nope", "application/json; charset=utf-8")
    assert json_body(b'{"a": 1}', "application/json; charset=utf-8") == {"a": 1}
