"""The language table: codes, aliases, scripts, families, did-you-mean errors."""

from __future__ import annotations

import pytest

from mbert_lab import languages as L
from mbert_lab.errors import ConfigError


def test_two_letter_codes_of_the_mirror_map_to_iso639_3():
    want = {
        "en": "eng",
        "de": "deu",
        "fr": "fra",
        "es": "spa",
        "ru": "rus",
        "zh": "cmn",
        "ar": "ara",
        "ja": "jpn",
        "ro": "ron",
    }
    assert {k: L.to_iso639_3(k) for k in want} == want


def test_lookup_is_case_insensitive_and_accepts_639_2b():
    assert L.to_iso639_3("DEU") == "deu" and L.to_iso639_3("ger") == "deu"
    assert L.get_language("zho").code == "cmn"


def test_unknown_code_did_you_mean_and_choices():
    with pytest.raises(ConfigError) as e:
        L.to_iso639_3("engl")
    msg = str(e.value)
    assert "unknown language code 'engl'" in msg and "did you mean 'eng'" in msg
    assert "valid choices" in msg and "yor" in msg
    with pytest.raises(ConfigError, match="did you mean 'de' = deu"):
        L.get_language("dee")


def test_every_entry_is_well_formed():
    for code, lang in L.LANGUAGES.items():
        assert code == lang.code and len(code) == 3 and code.islower()
        assert lang.script in L.SCRIPTS, code
        assert all(s in L.SCRIPTS for s in lang.other_scripts), code
        assert lang.family and lang.genus and lang.name
        assert lang.status in ("individual", "macrolanguage", "collective", "retired")
        assert lang.part1 is None or (len(lang.part1) == 2 and L.ALIASES[lang.part1] == code)
    assert all(v in L.LANGUAGES for v in L.ALIASES.values())


def test_families_and_scripts():
    assert L.family_of("nld") == "Indo-European/Germanic"
    assert L.family_of("swh") == "Atlantic-Congo/Bantoid"
    assert L.get_language("tur").family == "Turkic"
    assert L.get_language("epo").family == "Constructed"
    assert L.get_language("yue").script == "Hant" and L.get_language("wuu").script == "Hans"
    assert "Cyrl" in L.get_language("srp").other_scripts
    assert L.get_language("ber").status == "collective" and not L.get_language("ber").is_iso639_3
    assert L.get_language("kzj").status == "retired"
    assert "deu" in L.languages_by_family()["Indo-European"]
    assert "Glottolog" in L.FAMILY_SOURCE and "WALS" in L.FAMILY_SOURCE


def test_language_tags():
    assert str(L.parse_language_tag("cmn-Hant")) == "cmn-Hant"
    assert L.parse_language_tag("zh-hans") == L.LanguageTag("cmn", "Hans")
    assert L.parse_language_tag("eng").script is None
    with pytest.raises(ConfigError, match="did you mean 'Hant'"):
        L.parse_language_tag("cmn-Hnt")
