"""Synthetic identifiers that pass the national check digits: resident ids and institution codes."""

from __future__ import annotations

from datetime import date

# GB 11643-1999: weights of the first 17 digits and the check character for each remainder.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# GB 32100-2015 unified social credit code: alphabet (no I, O, S, V, Z) and weights.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id(area: str, birth: date, sequence: int, *, male: bool) -> str:
    """An 18-character resident identity number with a correct check character.

    ``sequence`` picks the 3-digit order code; its last digit is odd for men and even for women,
    as the standard requires.
    """
    if len(area) != 6 or not area.isdigit():
        raise ValueError("area must be 6 digits")
    order = (sequence % 500) * 2 + (1 if male else 0)
    body = f"{area}{birth:%Y%m%d}{order:03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def uscc(prefix: str, body: str) -> str:
    """A unified social credit code: 8-character ``prefix`` + 9-character ``body`` + check character."""
    stem = prefix + body
    if len(stem) != 17 or any(ch not in USCC_ALPHABET for ch in stem):
        raise ValueError("prefix + body must be 17 characters of the USCC alphabet")
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(stem, _USCC_WEIGHTS, strict=True))
    return stem + USCC_ALPHABET[(31 - total % 31) % 31]


def encode_base31(number: int, width: int) -> str:
    """``number`` written in the USCC alphabet, left-padded to ``width`` characters."""
    digits = []
    for _ in range(width):
        number, rest = divmod(number, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[rest])
    return "".join(reversed(digits))
