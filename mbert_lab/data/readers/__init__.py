"""Pure parsers, one module per format. No registry or catalogue import lives here.

``text`` (the line rule), ``pairs`` (``src ||| tgt``, line-aligned pairs, predicted links),
``tsv`` (``lang<TAB>text``, id lines, BUCC gold), ``alignment`` (gold ``src ||| tgt`` +
Pharaoh; :class:`~.alignment.GoldPair`), ``conllu``, ``tagged`` (``word<TAB>TAG``),
``ner`` (CoNLL NER), ``nli`` (XNLI / PAWS-X tsv), ``muse`` (bilingual dictionaries),
``parallel`` (two line-aligned files, Tatoeba). Each format module has a writer whose
output its reader reads back to equal records.

Every text reader follows one line rule (:mod:`mbert_lab.data.readers.text`): one leading
U+FEFF is stripped; line ends are ``\\n``, ``\\r\\n`` and a lone ``\\r`` only (never the other
separators ``str.splitlines`` knows, such as U+2028 or U+0085); only ASCII space and tab are
stripped (U+3000 is a token in Japanese data).
"""
