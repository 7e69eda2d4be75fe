"""Pure rules of registration input: no AWS."""
import pytest

from chalicelib.base.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from chalicelib.base.validation import clean_text, parse
from chalicelib.web import MAX_BODY_BYTES, json_body
from chalicelib.registry.registrations import registration_id_for
from chalicelib.registry.schemas import AddressIn, RegistrationIn, normalise_postcode
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


def test_registration_id_is_stable_for_the_same_owner_and_premises():
    # Given the same premises typed two ways
    a = AddressIn.model_validate({"line1": "12 Colmore Row", "town": "Birmingham", "postcode": "B3 2BJ"}, context={})
    b = AddressIn.model_validate({"line1": "12, COLMORE  ROW", "town": "B'ham", "postcode": "b32bj"}, context={})
    # Then both name one registration, and another owner's does not collide
    assert registration_id_for("ada@example.org", a) == registration_id_for("ada@example.org", b)
    assert registration_id_for("bob@example.org", a) != registration_id_for("ada@example.org", a)
    assert registration_id_for("ada@example.org", a).isalnum()


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
