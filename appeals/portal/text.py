"""Cleaning free text typed by appellants before it is stored.

Control characters (NUL, escape sequences, bidi overrides …) are never meaningful in an appeal and
break databases (PostgreSQL refuses NUL) or mislead readers, so they are removed; line breaks and
tabs survive in multi-line fields only. Text is NFC-normalised so the same words compare equal.
"""

from __future__ import annotations

import unicodedata

# Bidirectional overrides and isolates can visually reorder text ("Trojan Source").
_BIDI_CONTROLS = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in text:
        if multiline and ch in "\n\t":
            kept.append(ch)
        elif ch in _BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            continue
        elif not multiline and ch.isspace():
            kept.append(" ")
        else:
            kept.append(ch)
    cleaned = "".join(kept).strip()
    if not multiline:
        cleaned = " ".join(cleaned.split())
    return cleaned
