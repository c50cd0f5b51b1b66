"""Our supplement to JupyterLab's Vietnamese language pack: words JupyterLab really uses, with
their placeholders kept, and added only where the pack is silent, on both translation paths."""

import json
import re
import sys
from pathlib import Path

import pytest

import gettext

from hub_config.singleuser.lab_translations import CONTEXT_SEPARATOR, Catalogue, Words, merged, supplement

LAB = Path(sys.prefix) / "share" / "jupyter" / "lab"
PLACEHOLDER = re.compile(r"%\d+|\{\w*\}|<[^>]+>")


def lab_strings() -> str:
    """Every string JupyterLab's front-end and its settings schemas can ask to translate."""
    parts = [p.read_text(encoding="utf-8", errors="replace") for p in (LAB / "static").glob("*.js")]
    parts += [p.read_text(encoding="utf-8") for p in (LAB / "schemas").rglob("*.json")]
    return "\n".join(parts)


def written_in_js(msgid: str) -> set[str]:
    """How a bundle may spell the string: JSON-escaped, with or without non-ASCII escaped, or single-quoted."""
    plain = json.dumps(msgid, ensure_ascii=False)[1:-1]
    latin1 = "".join(f"\\x{ord(ch):02x}" if 0x7F < ord(ch) < 0x100 else ch for ch in plain)  # "\xa9" for ©
    return {msgid, json.dumps(msgid)[1:-1], plain, latin1, plain.replace('\\"', '"').replace("'", "\\'")}


@pytest.mark.parametrize("kind", ["gaps", "overrides"])
def test_the_vietnamese_words_are_jupyterlabs_with_their_placeholders(kind):
    words = getattr(supplement("vi_VN"), kind)
    assert len(words) > (300 if kind == "gaps" else 10), "the supplement is there"
    source = lab_strings()
    unknown = []
    for key, (translation, *_) in words.items():
        msgid = key.split(CONTEXT_SEPARATOR)[-1]
        if not any(form in source for form in written_in_js(msgid)):
            unknown.append(msgid)
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(translation)), key
        assert translation.strip(), key
    assert not unknown, f"not JupyterLab's words (renamed in a new JupyterLab?): {unknown[:10]}"


def test_the_pack_keeps_its_own_words_ours_fill_the_gaps_and_overrides_win():
    pack = {"": {"domain": "jupyterlab"}, "Other": ["Khác"], "Console": [""], "No Kernel": ["Không có kernel"]}
    words = Words(gaps={"Other": ["Cái khác"], "Console": ["Bảng điều khiển"], "Notebook": ["Sổ tay"]},
                  overrides={"No Kernel": ["Không có nhân"]})
    out = merged(pack, words)
    assert out["Other"] == ["Khác"] and out["Console"] == ["Bảng điều khiển"] and out["Notebook"] == ["Sổ tay"]
    assert out["No Kernel"] == ["Không có nhân"] and out[""] == {"domain": "jupyterlab"}


class Pack(gettext.NullTranslations):
    def gettext(self, message):
        return {"Other": "Khác", "No Kernel": "Không có kernel"}.get(message, message)


def test_the_catalogue_answers_gettext_overrides_then_pack_then_gaps():
    words = Words(gaps={"menu\x04Kernel": ["Nhân"], "Notebook": ["Sổ tay"], "%1 item": ["%1 mục", ""], "Other": ["x"]},
                  overrides={"No Kernel": ["Không có nhân"]})
    catalogue = Catalogue(Pack(), words)
    assert catalogue.pgettext("menu", "Kernel") == "Nhân"
    assert catalogue.gettext("Notebook") == "Sổ tay" and catalogue.gettext("Other") == "Khác"
    assert catalogue.gettext("No Kernel") == "Không có nhân"
    assert catalogue.ngettext("%1 item", "%1 items", 3) == "%1 mục"
    assert catalogue.gettext("Not ours") == "Not ours"


@pytest.mark.parametrize("locale", ["en", "fr_FR"])
def test_other_languages_have_no_supplement(locale):
    assert not supplement(locale)
