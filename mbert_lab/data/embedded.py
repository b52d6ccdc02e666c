"""The embedded demo corpus: Django's gettext translation catalogues.

Django ships its user-interface messages translated by its community into ~95 languages
(BSD-3-Clause licence), as compiled gettext catalogues inside the wheel on PyPI. Each
English message (``msgid``) and its translations form a small multilingual parallel
corpus of real, human-made text that nobody on this project wrote. The wheel is fetched
from the package registry, its sha256 checked against the pinned value, and the catalogues
are read with the standard library's :mod:`gettext`.

Messages are kept when they are plain text: no format placeholders (``%(name)s``, ``{0}``),
no markup, at least two words of letters in English, and a translation that differs from
the English text. Regional variants (``de_CH``, ``es_AR``...) and English locales are
skipped so each language appears once.
"""

from __future__ import annotations

import gettext
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataMissingError
from ..io import atomic_write_json

DJANGO_WHEEL = {
    "name": "Django",
    "version": "5.2.19",
    "filename": "django-5.2.19-py3-none-any.whl",
    "sha256": "5965d974a5218a2b68a11dd1276434707f23886525c23f0598eccedaf4f4ca00",
    "licence": "BSD-3-Clause",
    "source": "https://pypi.org/project/Django/5.2.19/",
}

_PLACEHOLDER = re.compile(r"%\(|%[sdr]|\{[^}]*\}|<[^>]+>|&\w+;|\\n|\n")
_WORD = re.compile(r"[^\W\d_]{2,}")

# Django locale directory -> language tag used here (as Django names them: ISO 639-1, or
# 639-3 where no 639-1 code exists). Other regional or script variants are skipped, and so
# is English (the source side).
_RENAME = {"zh_Hans": "zh"}
_SKIP_PREFIXES = ("en",)


@dataclass(frozen=True)
class EmbeddedCorpus:
    """English messages and their translations per language (``None`` where untranslated)."""

    english: tuple[str, ...]
    translations: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return sorted(self.translations)

    def parallel(self, lang: str) -> list[tuple[str, str]]:
        """(english, translation) pairs for one language, in message order."""
        tr = self.translations[lang]
        return [(e, t) for e, t in zip(self.english, tr) if t]

    def coverage(self, lang: str) -> float:
        tr = self.translations[lang]
        return sum(1 for t in tr if t) / max(len(tr), 1)


def _keep(msgid: str, msgstr: str) -> bool:
    if not msgid or not msgstr or msgid == msgstr:
        return False
    if _PLACEHOLDER.search(msgid) or _PLACEHOLDER.search(msgstr):
        return False
    return len(_WORD.findall(msgid)) >= 2


def read_catalogues(root: Path) -> EmbeddedCorpus:
    """Read every ``<app>/locale/<lang>/LC_MESSAGES/django.mo`` below ``root``."""
    per_lang: dict[str, dict[str, str]] = {}
    for mo in sorted(root.glob("**/locale/*/LC_MESSAGES/django.mo")):
        lang = mo.parent.parent.name
        lang = _RENAME.get(lang, lang)
        if "_" in lang or lang.startswith(_SKIP_PREFIXES):
            continue
        with open(mo, "rb") as f:
            cat = gettext.GNUTranslations(f)._catalog  # msgid -> msgstr; plural keys are tuples
        d = per_lang.setdefault(lang, {})
        for k, v in cat.items():
            if isinstance(k, str) and isinstance(v, str) and _keep(k, v):
                d.setdefault(k, v.strip())
    english = sorted({k for d in per_lang.values() for k in d})
    translations = {lang: tuple(d.get(e) for e in english) for lang, d in sorted(per_lang.items())}
    return EmbeddedCorpus(english=tuple(english), translations=translations, source=dict(DJANGO_WHEEL))


def load_embedded_corpus(min_coverage: float = 0.5) -> EmbeddedCorpus:
    """Fetch (once) and read the corpus; keep languages with at least ``min_coverage`` of the
    messages translated."""
    from ..paths import cache_dir

    cache = cache_dir("corpora", f"django-{DJANGO_WHEEL['version']}")
    done = cache / "corpus.json"
    if not done.exists():
        import os

        from ..models.wheels import extract_members, fetch_wheel

        wheel = fetch_wheel(
            DJANGO_WHEEL["name"],
            DJANGO_WHEEL["version"],
            DJANGO_WHEEL["sha256"],
            override=os.environ.get("MBERT_LAB_DJANGO_WHEEL"),
            error=DataMissingError,
        )
        extract_members(
            wheel,
            ["django/conf/locale/*/LC_MESSAGES/django.mo", "django/contrib/*/locale/*/LC_MESSAGES/django.mo"],
            cache / "wheel",
            error=DataMissingError,
        )
        corpus = read_catalogues(cache / "wheel")
        atomic_write_json(
            done,
            {"english": corpus.english, "translations": corpus.translations, "source": corpus.source},
        )
    data = json.loads(done.read_text(encoding="utf-8"))
    corpus = EmbeddedCorpus(
        english=tuple(data["english"]),
        translations={k: tuple(v) for k, v in data["translations"].items()},
        source=data["source"],
    )
    keep = {k: v for k, v in corpus.translations.items() if corpus.coverage(k) >= min_coverage}
    return EmbeddedCorpus(english=corpus.english, translations=keep, source=corpus.source)
