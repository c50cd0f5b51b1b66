"""JupyterLab in Vietnamese where its language pack has no word yet.

The Vietnamese language pack (jupyterlab-language-pack-vi-VN) translates about 500 of JupyterLab's
strings: students met "Notebook", "Console", the "Kernel" menu and most dialogs in English. This
package holds a supplement in the pack's own shape (Jed JSON: ``msgid`` or
``context\\u0004msgid`` -> ``[translation]``), in two files per locale: `<locale>.json`, the words the pack lacks (the pack's own win), and
`<locale>.overrides.json`, the few where ours win (the pack says "kernel" and "console" in English
in about thirty places, beside our "nhân" and "bảng điều khiển"). Both go through JupyterLab's
two translation paths:

- the front-end's catalogue, served at ``/lab/api/translations/<locale>`` by jupyterlab_server's
  ``get_language_pack``;
- the server-side translation of settings schemas (the menus), through gettext, where our
  catalogue wraps the pack's.

jupyterlab_server's own merge of package locales cannot be used: it compares the pack's version
field, which the Vietnamese pack sets to "jupyterlab" (not a version), and fails.
"""

from __future__ import annotations

import functools
import gettext
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DOMAIN = "jupyterlab"
CONTEXT_SEPARATOR = "\x04"


@dataclass(frozen=True)
class Words:
    gaps: dict[str, list[str]]  # where the pack has no word (or an empty one)
    overrides: dict[str, list[str]]  # where ours replace the pack's

    def __bool__(self) -> bool:
        return bool(self.gaps or self.overrides)


def _read(path: Path) -> dict[str, list[str]]:
    try:
        words = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none for this locale, or unreadable: the pack alone, as before
        return {}
    return {key: list(value) for key, value in words.items() if key}


@functools.lru_cache(maxsize=None)
def supplement(locale: str) -> Words:
    """Our words for `locale` (e.g. "vi_VN"); empty when there are none for it."""
    return Words(_read(HERE / f"{locale}.json"), _read(HERE / f"{locale}.overrides.json"))


def merged(pack: dict[str, Any], words: Words) -> dict[str, Any]:
    """The pack's catalogue with our words where it has none, and our overrides."""
    out: dict[str, Any] = dict(pack)
    for key, value in words.gaps.items():
        theirs = out.get(key)
        if not (isinstance(theirs, list) and any(theirs)):
            out[key] = value
    out.update(words.overrides)
    return out


class Catalogue(gettext.NullTranslations):
    """gettext over the pack's catalogue: our overrides first, then the pack, then our gaps."""

    def __init__(self, pack: gettext.NullTranslations, words: Words) -> None:
        super().__init__()
        self.pack, self.words = pack, words

    def _ours(self, table: dict[str, list[str]], key: str) -> str | None:
        found = table.get(key)
        return found[0] if found and found[0] else None

    def _pick(self, key: str, theirs: str, untranslated: str) -> str:
        override = self._ours(self.words.overrides, key)
        if override:
            return override
        if theirs != untranslated:
            return theirs
        return self._ours(self.words.gaps, key) or theirs

    def gettext(self, message: str) -> str:
        return self._pick(message, self.pack.gettext(message), message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self._pick(msgid1, self.pack.ngettext(msgid1, msgid2, n), msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return self._pick(context + CONTEXT_SEPARATOR + message, self.pack.pgettext(context, message), message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return self._pick(context + CONTEXT_SEPARATOR + msgid1, self.pack.npgettext(context, msgid1, msgid2, n),
                          msgid1 if n == 1 else msgid2)


def install() -> None:
    """Add the supplement to this server's JupyterLab (called before the server starts)."""
    from jupyterlab_server import translations_handler
    from jupyterlab_server.translation_utils import TranslationBundle

    if getattr(translations_handler, "_stemlab_supplement", False):
        return
    pack_catalogue = translations_handler.get_language_pack

    def get_language_pack(locale: str) -> tuple[dict[str, Any], str]:
        data, message = pack_catalogue(locale)
        extra = supplement(locale)
        if extra and DOMAIN in data:
            data = {**data, DOMAIN: merged(data[DOMAIN], extra)}
        return data, message

    bundle_update = TranslationBundle.update_locale

    def update_locale(self: Any, locale: str) -> None:
        bundle_update(self, locale)
        extra = supplement(locale)
        if extra and self._domain == DOMAIN:
            self._translator = Catalogue(self._translator, extra)

    # patched in place: JupyterLab's translation handler offers no hook for a supplement
    translations_handler.get_language_pack = get_language_pack  # type: ignore[assignment]
    TranslationBundle.update_locale = update_locale  # type: ignore[method-assign, assignment]
    translations_handler._stemlab_supplement = True  # type: ignore[attr-defined]
