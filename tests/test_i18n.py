"""The catalogue of names (gettext, managed with Babel) and locale-aware numbers (Babel).

- the .pot matches the msgids in the code (Babel's extraction over spamsim/);
- every msgid has a Japanese translation, none fuzzy, none left over, placeholders kept;
- one display name per thing in each language, the same in CLI tables, figures and report;
- numbers abbreviated per language: 5M / 1.2B in English, 500万 / 12億 in Japanese.
"""

from __future__ import annotations

import string

import pytest
from babel.messages.pofile import read_po

from spamsim import fmt, i18n, names
from spamsim.countermeasures import REGISTRY
from spamsim.plots import labels


def catalogue(path):
    with path.open("rb") as fh:
        return read_po(fh, locale="ja" if "LC_MESSAGES" in str(path) else None)


def ids(catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id) for m in catalog if m.id}


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_pot_is_in_sync_with_the_code():
    extracted = ids(i18n.extract_catalog())
    committed = ids(catalogue(i18n.POT_FILE))
    assert extracted - committed == set(), "new msgids: run python -m spamsim.i18n update"
    assert committed - extracted == set(), "msgids no longer used: run python -m spamsim.i18n update"


def test_japanese_catalogue_is_complete():
    pot = catalogue(i18n.POT_FILE)
    po = catalogue(i18n.po_file("ja"))
    assert ids(po) == ids(pot)
    for message in po:
        if not message.id:
            continue
        assert message.string, f"no translation: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        assert placeholders(message.string) == placeholders(message.id), message.id
    assert not po.obsolete


def test_translations_are_used():
    assert i18n.gettext("Receiver filtering", "ja") == "受信フィルタ"
    assert i18n.gettext("Receiver filtering", "en") == "Receiver filtering"
    assert i18n.gettext("{name}: from attempted messages to sales", "ja", name="x") == "x: 送信から販売まで"
    with pytest.raises(ValueError, match="language"):
        i18n.translations("fr")


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_one_display_name_per_countermeasure(lang):
    shown = {}
    for cm in REGISTRY:
        name = cm.display_name(lang)
        assert name == labels.countermeasure_label(cm.key, lang) == labels.text(cm.key, lang) == cm.labels[lang]
        assert name == names.metric_name(f"blocked_by.{cm.key}", lang).replace("Blocked by ", "").replace(
            "による阻止", ""
        )
        shown[name] = cm.key
    assert len(shown) == len(REGISTRY), "two countermeasures share a name"
    assert labels.countermeasure_label("receiver_filtering", "en") == "Receiver filtering"
    assert labels.countermeasure_label("open_relay_prevention", "en") == "Open relay prevention"
    assert labels.text("relay_prevention", lang) == labels.text("open_relay_prevention", lang)


def test_labels_keep_their_public_helpers():
    assert labels.metric_label("revenue", "ja", "JPY") == "収益 [円]"
    assert labels.metric_label("revenue", "en", "USD") == "Revenue (USD)"
    assert labels.param_label("enforcement.fines.individual", "en", "JPY") == "Fine, individual (JPY)"
    assert labels.channel_label("botnet", "ja") == "ボットネット"
    assert labels.channel_label("my-botnet", "ja") == "my-botnet"
    assert labels.TEXT["attempted"] == {"en": "Attempted", "ja": "送信数"}


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (5_000_000, "en", "5M"),
        (5_000_000, "ja", "500万"),
        (1.2e9, "en", "1.2B"),
        (1.2e9, "ja", "12億"),
        (251_160, "en", "251K"),
        (4.99e6, "en", "4.99M"),
        (-2.5e8, "en", "\u2212250M"),
        (1.5e-6, "en", "1.5e\u22126"),
        (float("nan"), "en", "—"),
    ],
)
def test_compact_numbers_per_language(value, lang, expected):
    assert fmt.compact(value, lang) == expected


def test_full_numbers_and_money():
    assert fmt.number(5_000_000) == "5,000,000"
    assert fmt.number(-1234.6) == "\u22121,235"
    assert fmt.number(8e-8) == "8 × 10⁻⁸"
    assert fmt.number(0.848, "share") == "84.8%"
    assert fmt.money(5e6, "JPY", "ja") == "5,000,000円"
    assert fmt.money(5e6, "JPY", "en", short=True) == "5M JPY"
    assert fmt.rate(1 / 640000, "ja") == "64万分の1"
