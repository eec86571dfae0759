from __future__ import annotations

import pytest

from outage.hsm.phones import first_valid_phone, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(11) 98765-4321", "5511987654321"),
        ("+55 11 98765-4321", "5511987654321"),
        ("011 98765 4321", "5511987654321"),
        ("1133334444", "551133334444"),
        ("5548991234567", "5548991234567"),
        ("98765-4321", None),
        ("(11) 88765-4321", None),
        ("(11) 99999-9999", None),
        ("", None),
        (None, None),
        ("abc", None),
    ],
)
def test_it_normalizes_brazilian_numbers_to_55_ddd_number(raw, expected):
    assert normalize_phone(raw) == expected


def test_it_prefers_the_mobile_then_whatsapp_then_fone():
    assert first_valid_phone(["", "(21) 99876-5432", "(21) 3333-4444"]) == "5521998765432"
    assert first_valid_phone(["123", "(21) 3333-4444"]) == "552133334444"
    assert first_valid_phone(["0"]) is None


def test_it_masks_the_middle_of_a_phone_for_logs():
    assert mask_phone("5511987654321") == "5511*****4321"
