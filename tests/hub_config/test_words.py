"""Every word of the platform's own pages exists in Vietnamese and English, and bilingual test
messages split into one language."""

import string

import pytest

from hub_config.singleuser.words import PAGE_WORDS
from hub_config.site.language import LANGUAGES, one_language
from hub_config.site.staff_words import WORDS


@pytest.mark.parametrize("table", [WORDS, PAGE_WORDS], ids=["staff pages", "student page"])
def test_every_word_is_in_both_languages_with_the_same_blanks(table):
    for key, texts in table.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(t.strip() for t in texts.values()), key
        blanks = [{f for _, f, _, _ in string.Formatter().parse(t) if f} for t in texts.values()]
        assert blanks[0] == blanks[1], f"{key}: the two languages fill different blanks"


def test_a_bilingual_message_in_one_language():
    message = "Sân 5 m × 3 m có chu vi 16 m / a 5 m × 3 m yard has perimeter 16 m"
    assert one_language(message, "vi") == "Sân 5 m × 3 m có chu vi 16 m"
    assert one_language(message, "en") == "a 5 m × 3 m yard has perimeter 16 m"
    assert one_language("NameError: name 'x' is not defined", "vi") == "NameError: name 'x' is not defined"


def test_nbgraders_exchange_messages_reach_a_student_in_vietnamese_first():
    """Each message we translate is still nbgrader's own (an nbgrader release that rewords one
    fails here, not silently in a student's panel), and a step's failure carries both."""
    from pathlib import Path

    import nbgrader.exchange
    from nbgrader.exchange import ExchangeError

    from hub_config.teaching.exchange import NBGRADER_WORDS, LockedFetch

    source = "".join(p.read_text() for p in Path(nbgrader.exchange.__file__).parent.rglob("*.py"))
    for english in NBGRADER_WORDS:
        assert english.rstrip(".") in source, english
    try:
        LockedFetch().fail("You do not have access to this course.")
    except ExchangeError as err:
        assert str(err) == "Em không học lớp của khóa học này. / You do not have access to this course."
    else:
        raise AssertionError("fail() must raise")
