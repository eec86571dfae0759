"""Brazilian phone numbers for WhatsApp: `55` + DDD + number, digits only."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from outage.core.model import mask_phone  # noqa: F401 - re-exported for the console's modules

_NON_DIGITS = re.compile(r"\D+")


def normalize_phone(raw: Any) -> str | None:
    """E.164 digits (`5511987654321`) or None when `raw` is not a valid Brazilian number.

    Accepts national numbers of 10 or 11 digits (DDD + number, with or without a leading
    0 or the country code 55); a mobile of 11 digits must start with 9 after the DDD.
    """
    digits = _NON_DIGITS.sub("", str(raw or ""))
    if digits.startswith("55") and len(digits) in (12, 13):
        digits = digits[2:]
    digits = digits.lstrip("0")
    if len(digits) not in (10, 11) or digits[0] == "0" or digits[1] == "0":
        return None
    if len(digits) == 11 and digits[2] != "9":
        return None
    if len(set(digits[2:])) == 1:  # 11 99999-9999, 11 0000-0000: placeholders
        return None
    return "55" + digits


def first_valid_phone(candidates: Iterable[Any]) -> str | None:
    """The first of `candidates` (best first) that is a valid number, normalized."""
    for raw in candidates:
        phone = normalize_phone(raw)
        if phone:
            return phone
    return None
