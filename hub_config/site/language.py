"""The two languages of the platform's own pages, and how a page picks its words.

Each page keeps one table, key -> {"vi": ..., "en": ...}, so a missing translation is a test
failure, not an English word on a Vietnamese page (tests/hub_config/test_words.py).
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")  # Vietnamese first: the default wherever nothing else is chosen


def in_language(table: dict[str, dict[str, str]], key: str, lang: str, **values: object) -> str:
    text = table[key][lang if lang in LANGUAGES else "vi"]
    return text.format(**values) if values else text


def one_language(text: str, lang: str) -> str:
    """A bilingual message in the project's shape, "tiếng Việt / English", in one language (the
    authoring check makes every test message take that shape); other text is returned as it is."""
    vi, sep, en = text.partition(" / ")
    if not sep:
        return text
    return vi if lang == "vi" else en
