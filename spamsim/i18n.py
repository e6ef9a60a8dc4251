"""The catalogue of names and labels: English msgids, Japanese from a gettext catalogue.

Every word spamsim shows — in CLI tables, figures, the HTML report — is an English msgid
marked with :func:`N_` (or passed to :func:`gettext` as a literal) in the code, extracted
by Babel into ``spamsim/locale/spamsim.pot``; the Japanese translations live in
``spamsim/locale/ja/LC_MESSAGES/spamsim.po``. The ``.po`` file is compiled in memory at
first use (Babel's ``pofile`` → ``mofile``), so there is no build step and no ``.mo`` file
that could fall out of date. ``tests/test_i18n.py`` checks that the ``.pot`` matches the
code and that every msgid has a Japanese translation.

Maintainers: after changing a msgid, run ``python -m spamsim.i18n update`` (re-extracts the
``.pot`` and merges it into the ``.po``), then translate the new entries.
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Iterator, Mapping
from gettext import NullTranslations
from pathlib import Path

LANGS = ("en", "ja")
"""Languages spamsim speaks (English is the msgids themselves)."""

DOMAIN = "spamsim"
LOCALE_DIR = Path(__file__).with_name("locale")
POT_FILE = LOCALE_DIR / f"{DOMAIN}.pot"
PACKAGE_DIR = Path(__file__).parent

EXTRACT_METHODS = [("**.py", "python")]
"""How Babel extracts msgids from the package (keywords: Babel's defaults, incl. ``N_``)."""


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``msgid`` for extraction without translating it (returned unchanged)."""
    return msgid


def po_file(lang: str) -> Path:
    """The ``.po`` catalogue of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def check_lang(lang: str) -> str:
    """``lang`` if spamsim speaks it; ``ValueError`` naming the choices otherwise."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    return lang


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The gettext translations of ``lang`` (English: the msgids unchanged)."""
    # Babel is imported here, not at import time: importing spamsim (or a countermeasure) stays light.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    check_lang(lang)
    path = po_file(lang)
    if lang == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)  # fuzzy entries are guesses: never shown
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(msgid: str, lang: str, **values: object) -> str:
    """``msgid`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    phrase = translations(lang).gettext(msgid)
    return phrase.format(**values) if values else phrase


def pgettext(context: str, msgid: str, lang: str, **values: object) -> str:
    """Like :func:`gettext` for a msgid whose translation depends on ``context``."""
    phrase = translations(lang).pgettext(context, msgid)
    return phrase.format(**values) if values else phrase


class Names(Mapping[str, str]):
    """A msgid in every language, ``{"en": ..., "ja": ...}``, translated when read.

    Reads like the dictionaries of names that registries and figures used before the
    catalogue; the catalogue is loaded on first use, not when a module defines its names.
    """

    def __init__(self, msgid: str):
        self.msgid = msgid

    def __getitem__(self, lang: str) -> str:
        if lang not in LANGS:
            raise KeyError(lang)
        return gettext(self.msgid, lang)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGS)

    def __len__(self) -> int:
        return len(LANGS)

    def __repr__(self) -> str:
        return f"Names({self.msgid!r})"


def both(msgid: str) -> Names:
    """``{"en": msgid, "ja": ...}``: a msgid in every language (for registries and old tables)."""
    return Names(msgid)


def extract_catalog():  # type: ignore[no-untyped-def]
    """The catalogue Babel extracts from the package's code and templates today."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="spamsim", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE_DIR), EXTRACT_METHODS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(f"spamsim/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def update() -> None:
    """Re-extract the ``.pot`` and merge it into every ``.po`` (new entries untranslated)."""
    from babel.messages.pofile import read_po, write_po

    template = extract_catalog()
    with POT_FILE.open("wb") as fh:
        write_po(fh, template, omit_header=True, sort_output=True, no_location=True)
    for lang in LANGS[1:]:
        with po_file(lang).open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        with po_file(lang).open("wb") as fh:
            write_po(fh, catalog, omit_header=True, sort_output=True, no_location=True, ignore_obsolete=True)


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    if sys.argv[1:] == ["update"]:
        update()
    else:
        sys.exit("usage: python -m spamsim.i18n update")
