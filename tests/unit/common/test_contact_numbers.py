"""Phone and resident identity numbers as complaints and the gateway's form both read them."""

import pytest

from services.common.contact_numbers import id_number_check_character, is_id_number_shape, is_phone, phone_key


@pytest.mark.parametrize("phone", ["13912345678", "139-1234-5678", "+86 139 1234 5678", "0086-13912345678",
                                   "021-54889000", "021 5488 9000", "0571-8888888-123"])
def test_numbers_as_people_write_them_are_phones(phone):
    assert is_phone(phone)


@pytest.mark.parametrize("phone", ["", "12345", "12912345678", "139123456789", "54889000", "021-548", "电话",
                                   "13912345678; DROP TABLE", "+1 415 555 0100",
                                   "１３９１２３４５６７８",
                                   "\u0661\u0663\u0669\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"])
def test_what_is_no_phone_is_refused(phone):
    assert not is_phone(phone)


def test_the_key_of_a_line_ignores_its_punctuation_and_prefix():
    assert phone_key("+86 139-1234-5678") == phone_key("13912345678") == "13912345678"


def test_the_check_character_of_a_known_number():
    # GB 11643's own example: 11010519491231002X.
    assert id_number_check_character("11010519491231002") == "X"
    assert is_id_number_shape("11010519491231002X")


@pytest.mark.parametrize("id_number", ["", "11010519491231002", "11010519491231002x", "1101051949123100XX",
                                       "１１０１０５１９４９１２３１００２X"])
def test_what_has_not_the_shape_of_an_id_number_is_refused(id_number):
    assert not is_id_number_shape(id_number)


def test_the_check_character_needs_seventeen_digits():
    with pytest.raises(ValueError):
        id_number_check_character("1101051949")
