"""Language codes used by the data mirror: ISO 639-3 code -> name, script, family.

Every language that occurs in a dataset of the mirror is listed once under its ISO 639-3
code (the codes Tatoeba's file names use, MasakhaNER's folder names, and the 639-3
equivalents of the two-letter codes in the PUD, XTREME and XNLI file names).

Why a table in the package: ``langcodes``/``language-data``, ``pycountry`` and
``python-iso639`` give names and (``langcodes``) a likely script per code, but none of them
gives a language family. So names, the usual script and the family live here, in one
small table. Sources:

- names: the ISO 639-3 code tables (SIL), as shipped by ``python-iso639`` (checked by hand);
- script: ISO 15924, the script the mirror's text actually uses (counted over the files);
- family: the top-level family of Glottolog 5 (``Atlantic-Congo`` rather than Niger-Congo,
  ``Turkic`` and ``Mongolic-Khitan`` rather than "Altaic"); genus: the WALS genus where
  WALS has the language (e.g. ``Germanic``, ``Bantoid``), else the Glottolog subgroup.
  Pseudo-families, as in Glottolog: ``Constructed`` (auxiliary and artistic languages)
  and ``Creole`` (with the lexifier as genus).

Two codes of the Tatoeba file names are not current ISO 639-3 individual codes and are
kept with their status: ``ber`` (Berber languages, an ISO 639-2/639-5 collective code)
and ``kzj`` (Coastal Kadazan, retired from ISO 639-3 in 2016 and merged into ``dtp``).

>>> get_language("de").code, get_language("deu").genus
('deu', 'Germanic')
>>> to_iso639_3("zh")
'cmn'
>>> parse_language_tag("cmn-Hant")
LanguageTag(code='cmn', script='Hant')
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError, choice_error

FAMILY_SOURCE = (
    "family: Glottolog 5 top-level family (pseudo-families 'Constructed' and 'Creole' "
    "as in Glottolog); genus: WALS genus where WALS has the language, else the Glottolog "
    "subgroup; compiled by hand for the languages of the mbert-lab data mirror"
)


@dataclass(frozen=True)
class Language:
    """One language of the mirror.

    ``script`` is the ISO 15924 code of the script the mirror's text uses (``Hani`` where
    simplified and traditional Chinese are mixed); ``other_scripts`` lists further scripts
    that a dataset mixes in (Tatoeba's Serbian is ~70% Latin, ~30% Cyrillic).
    ``status`` is ``individual``, ``macrolanguage``, ``collective`` or ``retired``.
    """

    code: str
    name: str
    script: str
    family: str
    genus: str
    part1: str | None = None
    status: str = "individual"
    other_scripts: tuple[str, ...] = ()

    @property
    def is_iso639_3(self) -> bool:
        """True for current ISO 639-3 codes (individual languages and macrolanguages)."""
        return self.status in ("individual", "macrolanguage")


@dataclass(frozen=True)
class LanguageTag:
    """An ISO 639-3 code with an optional ISO 15924 script, e.g. ``cmn-Hans``."""

    code: str
    script: str | None = None

    def __str__(self) -> str:
        return self.code if self.script is None else f"{self.code}-{self.script}"


# ISO 15924 codes that occur in the mirror (plus a few close relatives used in tags).
SCRIPTS: dict[str, str] = {
    "Arab": "Arabic",
    "Armn": "Armenian",
    "Beng": "Bengali",
    "Cyrl": "Cyrillic",
    "Deva": "Devanagari",
    "Ethi": "Ethiopic (Ge'ez)",
    "Geor": "Georgian",
    "Grek": "Greek",
    "Hang": "Hangul",
    "Hani": "Han (simplified and traditional mixed)",
    "Hans": "Han (simplified)",
    "Hant": "Han (traditional)",
    "Hebr": "Hebrew",
    "Hira": "Hiragana",
    "Jpan": "Japanese (Han + Hiragana + Katakana)",
    "Kana": "Katakana",
    "Khmr": "Khmer",
    "Kore": "Korean (Hangul + Han)",
    "Latn": "Latin",
    "Mlym": "Malayalam",
    "Taml": "Tamil",
    "Telu": "Telugu",
    "Thai": "Thai",
}

IE = "Indo-European"
AA = "Afro-Asiatic"
AC = "Atlantic-Congo"
AN = "Austronesian"
UR = "Uralic"
TK = "Turkic"
ST = "Sino-Tibetan"
DR = "Dravidian"
CON = "Constructed"

# code, name, script, family, genus, part1, status, other scripts
_TABLE: tuple[tuple, ...] = (
    ("afr", "Afrikaans", "Latn", IE, "Germanic", "af"),
    ("amh", "Amharic", "Ethi", AA, "Semitic", "am"),
    ("ang", "Old English (ca. 450-1100)", "Latn", IE, "Germanic", None),
    ("ara", "Arabic", "Arab", AA, "Semitic", "ar", "macrolanguage"),
    ("arq", "Algerian Arabic", "Arab", AA, "Semitic", None),
    ("arz", "Egyptian Arabic", "Arab", AA, "Semitic", None),
    ("ast", "Asturian", "Latn", IE, "Romance", None),
    ("awa", "Awadhi", "Deva", IE, "Indic", None),
    ("aze", "Azerbaijani", "Latn", TK, "Turkic", "az", "macrolanguage"),
    ("bel", "Belarusian", "Cyrl", IE, "Slavic", "be"),
    ("ben", "Bengali", "Beng", IE, "Indic", "bn"),
    ("ber", "Berber languages", "Latn", AA, "Berber", None, "collective"),
    ("bos", "Bosnian", "Latn", IE, "Slavic", "bs"),
    ("bre", "Breton", "Latn", IE, "Celtic", "br"),
    ("bul", "Bulgarian", "Cyrl", IE, "Slavic", "bg"),
    ("cat", "Catalan", "Latn", IE, "Romance", "ca"),
    ("cbk", "Chavacano", "Latn", "Creole", "Spanish-lexified", None),
    ("ceb", "Cebuano", "Latn", AN, "Greater Central Philippine", None),
    ("ces", "Czech", "Latn", IE, "Slavic", "cs"),
    ("cha", "Chamorro", "Latn", AN, "Chamorro", "ch"),
    ("cmn", "Mandarin Chinese", "Hani", ST, "Chinese", None, "individual", ("Hans", "Hant")),
    ("cor", "Cornish", "Latn", IE, "Celtic", "kw"),
    ("csb", "Kashubian", "Latn", IE, "Slavic", None),
    ("cym", "Welsh", "Latn", IE, "Celtic", "cy"),
    ("dan", "Danish", "Latn", IE, "Germanic", "da"),
    ("deu", "German", "Latn", IE, "Germanic", "de"),
    ("dsb", "Lower Sorbian", "Latn", IE, "Slavic", None),
    ("dtp", "Kadazan Dusun", "Latn", AN, "North Borneo", None),
    ("ell", "Modern Greek (1453-)", "Grek", IE, "Greek", "el"),
    ("eng", "English", "Latn", IE, "Germanic", "en"),
    ("epo", "Esperanto", "Latn", CON, "Auxiliary", "eo"),
    ("est", "Estonian", "Latn", UR, "Finnic", "et", "macrolanguage"),
    ("eus", "Basque", "Latn", "Basque", "Basque", "eu"),
    ("fao", "Faroese", "Latn", IE, "Germanic", "fo"),
    ("fin", "Finnish", "Latn", UR, "Finnic", "fi"),
    ("fra", "French", "Latn", IE, "Romance", "fr"),
    ("fry", "Western Frisian", "Latn", IE, "Germanic", "fy"),
    ("gla", "Scottish Gaelic", "Latn", IE, "Celtic", "gd"),
    ("gle", "Irish", "Latn", IE, "Celtic", "ga"),
    ("glg", "Galician", "Latn", IE, "Romance", "gl"),
    ("gsw", "Swiss German", "Latn", IE, "Germanic", None),
    ("hau", "Hausa", "Latn", AA, "West Chadic", "ha"),
    ("heb", "Hebrew", "Hebr", AA, "Semitic", "he"),
    ("hin", "Hindi", "Deva", IE, "Indic", "hi"),
    ("hrv", "Croatian", "Latn", IE, "Slavic", "hr"),
    ("hsb", "Upper Sorbian", "Latn", IE, "Slavic", None),
    ("hun", "Hungarian", "Latn", UR, "Ugric", "hu"),
    ("hye", "Armenian", "Armn", IE, "Armenian", "hy"),
    ("ibo", "Igbo", "Latn", AC, "Igboid", "ig"),
    ("ido", "Ido", "Latn", CON, "Auxiliary", "io"),
    ("ile", "Interlingue", "Latn", CON, "Auxiliary", "ie"),
    ("ina", "Interlingua (IALA)", "Latn", CON, "Auxiliary", "ia"),
    ("ind", "Indonesian", "Latn", AN, "Malayic", "id"),
    ("isl", "Icelandic", "Latn", IE, "Germanic", "is"),
    ("ita", "Italian", "Latn", IE, "Romance", "it"),
    ("jav", "Javanese", "Latn", AN, "Javanese", "jv"),
    ("jpn", "Japanese", "Jpan", "Japonic", "Japanese", "ja"),
    ("kab", "Kabyle", "Latn", AA, "Berber", None),
    ("kat", "Georgian", "Geor", "Kartvelian", "Kartvelian", "ka"),
    ("kaz", "Kazakh", "Cyrl", TK, "Turkic", "kk"),
    ("khm", "Khmer", "Khmr", "Austroasiatic", "Khmer", "km"),
    ("kin", "Kinyarwanda", "Latn", AC, "Bantoid", "rw"),
    ("kor", "Korean", "Kore", "Koreanic", "Korean", "ko"),
    ("kur", "Kurdish", "Latn", IE, "Iranian", "ku", "macrolanguage", ("Arab",)),
    ("kzj", "Coastal Kadazan", "Latn", AN, "North Borneo", None, "retired"),
    ("lat", "Latin", "Latn", IE, "Italic", "la"),
    ("lfn", "Lingua Franca Nova", "Latn", CON, "Auxiliary", None, "individual", ("Cyrl",)),
    ("lit", "Lithuanian", "Latn", IE, "Baltic", "lt"),
    ("lug", "Ganda", "Latn", AC, "Bantoid", "lg"),
    ("luo", "Luo (Kenya and Tanzania)", "Latn", "Nilotic", "Nilotic", None),
    ("lvs", "Standard Latvian", "Latn", IE, "Baltic", None),
    ("mal", "Malayalam", "Mlym", DR, "Southern Dravidian", "ml"),
    ("mar", "Marathi", "Deva", IE, "Indic", "mr"),
    ("max", "North Moluccan Malay", "Latn", AN, "Malayic", None),
    ("mhr", "Eastern Mari", "Cyrl", UR, "Mari", None),
    ("mkd", "Macedonian", "Cyrl", IE, "Slavic", "mk"),
    ("mon", "Mongolian", "Cyrl", "Mongolic-Khitan", "Mongolic", "mn", "macrolanguage"),
    ("nds", "Low German", "Latn", IE, "Germanic", None),
    ("nld", "Dutch", "Latn", IE, "Germanic", "nl"),
    ("nno", "Norwegian Nynorsk", "Latn", IE, "Germanic", "nn"),
    ("nob", "Norwegian Bokmål", "Latn", IE, "Germanic", "nb"),
    ("nov", "Novial", "Latn", CON, "Auxiliary", None),
    ("oci", "Occitan (post 1500)", "Latn", IE, "Romance", "oc"),
    ("orv", "Old Russian", "Cyrl", IE, "Slavic", None),
    ("pam", "Pampanga", "Latn", AN, "Central Luzon", None),
    ("pcm", "Nigerian Pidgin", "Latn", "Creole", "English-lexified", None),
    ("pes", "Iranian Persian", "Arab", IE, "Iranian", None),
    ("pms", "Piemontese", "Latn", IE, "Romance", None),
    ("pol", "Polish", "Latn", IE, "Slavic", "pl"),
    ("por", "Portuguese", "Latn", IE, "Romance", "pt"),
    ("ron", "Romanian", "Latn", IE, "Romance", "ro"),
    ("rus", "Russian", "Cyrl", IE, "Slavic", "ru"),
    ("slk", "Slovak", "Latn", IE, "Slavic", "sk"),
    ("slv", "Slovenian", "Latn", IE, "Slavic", "sl"),
    ("spa", "Spanish", "Latn", IE, "Romance", "es"),
    ("sqi", "Albanian", "Latn", IE, "Albanian", "sq", "macrolanguage"),
    ("srp", "Serbian", "Latn", IE, "Slavic", "sr", "individual", ("Cyrl",)),
    ("swa", "Swahili (macrolanguage)", "Latn", AC, "Bantoid", "sw", "macrolanguage"),
    ("swe", "Swedish", "Latn", IE, "Germanic", "sv"),
    ("swg", "Swabian", "Latn", IE, "Germanic", None),
    ("swh", "Swahili (individual language)", "Latn", AC, "Bantoid", None),
    ("tam", "Tamil", "Taml", DR, "Southern Dravidian", "ta"),
    ("tat", "Tatar", "Cyrl", TK, "Turkic", "tt"),
    ("tel", "Telugu", "Telu", DR, "South-Central Dravidian", "te"),
    ("tgl", "Tagalog", "Latn", AN, "Greater Central Philippine", "tl"),
    ("tha", "Thai", "Thai", "Tai-Kadai", "Kam-Tai", "th"),
    ("tuk", "Turkmen", "Latn", TK, "Turkic", "tk"),
    ("tur", "Turkish", "Latn", TK, "Turkic", "tr"),
    ("tzl", "Talossan", "Latn", CON, "Artistic", None),
    ("uig", "Uighur", "Arab", TK, "Turkic", "ug"),
    ("ukr", "Ukrainian", "Cyrl", IE, "Slavic", "uk"),
    ("urd", "Urdu", "Arab", IE, "Indic", "ur"),
    ("uzb", "Uzbek", "Latn", TK, "Turkic", "uz", "macrolanguage", ("Cyrl",)),
    ("vie", "Vietnamese", "Latn", "Austroasiatic", "Viet-Muong", "vi"),
    ("war", "Waray (Philippines)", "Latn", AN, "Greater Central Philippine", None),
    ("wol", "Wolof", "Latn", AC, "Northern Atlantic", "wo"),
    ("wuu", "Wu Chinese", "Hans", ST, "Chinese", None),
    ("xho", "Xhosa", "Latn", AC, "Bantoid", "xh"),
    ("yid", "Yiddish", "Hebr", IE, "Germanic", "yi", "macrolanguage"),
    ("yor", "Yoruba", "Latn", AC, "Defoid", "yo"),
    ("yue", "Yue Chinese", "Hant", ST, "Chinese", None),
    ("zsm", "Standard Malay", "Latn", AN, "Malayic", None),
)

LANGUAGES: dict[str, Language] = {}
for _row in _TABLE:
    _code, _name, _script, _family, _genus, _part1 = _row[:6]
    _status = _row[6] if len(_row) > 6 else "individual"
    _other = tuple(_row[7]) if len(_row) > 7 else ()
    LANGUAGES[_code] = Language(_code, _name, _script, _family, _genus, _part1, _status, _other)
del _row, _code, _name, _script, _family, _genus, _part1, _status, _other

# Codes that resolve to another entry. Two-letter codes resolve through ``part1`` above;
# these are the extra ones: the Chinese, Persian, Latvian and Malay macrolanguage codes
# resolve to the individual language the mirror's text is in (XNLI/PUD/XTREME 'zh' is
# written Standard Mandarin; Tatoeba itself uses cmn, pes, lvs, zsm).
ALIASES: dict[str, str] = {
    "zh": "cmn",
    "zho": "cmn",
    "chi": "cmn",
    "fa": "pes",
    "fas": "pes",
    "per": "pes",
    "lv": "lvs",
    "lav": "lvs",
    "ms": "zsm",
    "msa": "zsm",
    "may": "zsm",
    # ISO 639-2/B bibliographic codes for languages of the mirror
    "ger": "deu",
    "fre": "fra",
    "dut": "nld",
    "cze": "ces",
    "gre": "ell",
    "rum": "ron",
    "slo": "slk",
    "wel": "cym",
    "arm": "hye",
    "baq": "eus",
    "geo": "kat",
    "ice": "isl",
    "alb": "sqi",
    "mac": "mkd",
    "bur": "mya",
}
for _lang in LANGUAGES.values():
    if _lang.part1:
        ALIASES.setdefault(_lang.part1, _lang.code)
ALIASES = {k: v for k, v in ALIASES.items() if v in LANGUAGES}


def all_codes() -> list[str]:
    """Every ISO 639-3 (or kept legacy) code in the table, sorted."""
    return sorted(LANGUAGES)


def is_known(code: str) -> bool:
    """True if ``code`` (639-3, 639-1 or an alias) names a language of the table.

    >>> is_known("en"), is_known("eng"), is_known("xx")
    (True, True, False)
    """
    c = str(code).strip().lower()
    return c in LANGUAGES or c in ALIASES


def to_iso639_3(code: str) -> str:
    """The table's ISO 639-3 code for ``code`` (639-3, 639-1, 639-2/B or an alias).

    Raises a ConfigError with a did-you-mean for an unknown code.

    >>> to_iso639_3("ro"), to_iso639_3("RON"), to_iso639_3("zho")
    ('ron', 'ron', 'cmn')
    """
    c = str(code).strip().lower()
    if c in LANGUAGES:
        return c
    if c in ALIASES:
        return ALIASES[c]
    raise unknown_language_error(code)


def unknown_language_error(code: object) -> ConfigError:
    """A ConfigError for an unknown code: did-you-mean over codes and aliases, then the
    valid ISO 639-3 codes (two-letter codes of the same languages are accepted too)."""
    import difflib

    c = str(code).strip().lower()
    close = difflib.get_close_matches(c, list(LANGUAGES) + list(ALIASES), n=1)
    hint = ""
    if close:
        target = ALIASES.get(close[0], close[0])
        hint = (
            f" (did you mean '{close[0]}'" + (f" = {target}" if target != close[0] else "") + "?)"
        )
    return ConfigError(
        f"unknown language code '{code}'{hint}; valid choices (ISO 639-3; the two-letter "
        f"ISO 639-1 code of the same language also works): {', '.join(sorted(LANGUAGES))}"
    )


def get_language(code: str) -> Language:
    """The :class:`Language` for ``code``; see :func:`to_iso639_3` for accepted forms.

    >>> get_language("sw").name
    'Swahili (macrolanguage)'
    >>> get_language("kzj").status
    'retired'
    """
    return LANGUAGES[to_iso639_3(code)]


def parse_language_tag(tag: str) -> LanguageTag:
    """Parse ``xxx`` or ``xxx-Scrp`` (ISO 639-3 + ISO 15924) into a :class:`LanguageTag`.

    The language part goes through :func:`to_iso639_3`; the script must be one of
    :data:`SCRIPTS` (case as in ISO 15924: ``Hans``).

    >>> str(parse_language_tag("zh-Hans"))
    'cmn-Hans'
    """
    s = str(tag).strip()
    code, _, script = s.partition("-")
    lang = to_iso639_3(code)
    if not script:
        return LanguageTag(lang)
    norm = script[:1].upper() + script[1:].lower()
    if norm not in SCRIPTS:
        raise choice_error(f"script in language tag '{tag}'", script, SCRIPTS)
    return LanguageTag(lang, norm)


def family_of(code: str) -> str:
    """``'Family/Genus'`` for a code, e.g. ``'Indo-European/Germanic'``.

    >>> family_of("nld")
    'Indo-European/Germanic'
    """
    lang = get_language(code)
    return f"{lang.family}/{lang.genus}"


def languages_by_family() -> dict[str, list[str]]:
    """Family -> sorted codes (the whole table).

    >>> "deu" in languages_by_family()["Indo-European"]
    True
    """
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES.values():
        out.setdefault(lang.family, []).append(lang.code)
    return {k: sorted(v) for k, v in sorted(out.items())}


UNKNOWN = "unknown"


@dataclass(frozen=True)
class LanguageInfo:
    """What the project knows of a language code, with a word for every gap.

    Every field is a string: where the language table has nothing (a code that only a
    dataset's file names use, such as the local-use codes ``qaa``-``qtz``), the field says
    ``"unknown"``; a known language without an ISO 639-1 code says ``"none"`` there.
    ``known`` says whether the table has the language; ``code`` is the code used to store
    it (ISO 639-3 where known, else the code as given, lower-cased).
    """

    code: str
    iso639_1: str
    iso639_3: str
    name: str
    script: str
    family: str
    genus: str
    status: str
    known: bool

    def to_dict(self) -> dict[str, object]:
        from dataclasses import asdict

        return asdict(self)


def _is_iso639_3_shape(c: str) -> bool:
    return len(c) == 3 and c.isascii() and c.isalpha()


def language_info(code: str) -> LanguageInfo:
    """:class:`LanguageInfo` for any code: from the table where it knows the code, else
    ``"unknown"`` in every field the table would fill.

    >>> language_info("de").name, language_info("ang").iso639_1
    ('German', 'none')
    >>> i = language_info("qaa"); (i.code, i.iso639_3, i.name, i.family, i.known)
    ('qaa', 'qaa', 'unknown', 'unknown', False)
    """
    c = str(code).strip().lower()
    if is_known(c):
        lang = get_language(c)
        return LanguageInfo(
            code=lang.code,
            iso639_1=lang.part1 or "none",
            iso639_3=(
                lang.code if lang.is_iso639_3 else f"{UNKNOWN} ({lang.status} code {lang.code})"
            ),
            name=lang.name,
            script=lang.script,
            family=lang.family,
            genus=lang.genus,
            status=lang.status,
            known=True,
        )
    return LanguageInfo(
        code=c,
        iso639_1=c if len(c) == 2 and c.isascii() and c.isalpha() else UNKNOWN,
        iso639_3=c if _is_iso639_3_shape(c) else UNKNOWN,
        name=UNKNOWN,
        script=UNKNOWN,
        family=UNKNOWN,
        genus=UNKNOWN,
        status=UNKNOWN,
        known=False,
    )


def storage_code(code: str) -> str:
    """The code a language is stored under: ISO 639-3 where the table knows it, else the
    code itself (lower-cased), e.g. a local-use ``qaa`` or a dataset's own code.

    >>> storage_code("de"), storage_code("QAA")
    ('deu', 'qaa')
    """
    c = str(code).strip().lower()
    return to_iso639_3(c) if is_known(c) else c


__all__ = [
    "ALIASES",
    "FAMILY_SOURCE",
    "LANGUAGES",
    "SCRIPTS",
    "ConfigError",
    "Language",
    "LanguageInfo",
    "LanguageTag",
    "UNKNOWN",
    "all_codes",
    "family_of",
    "get_language",
    "is_known",
    "language_info",
    "languages_by_family",
    "parse_language_tag",
    "storage_code",
    "to_iso639_3",
    "unknown_language_error",
]
