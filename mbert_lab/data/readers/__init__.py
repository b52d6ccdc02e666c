"""Pure parsers, one module per format. No registry or catalogue import lives here.

Every text reader follows one line rule (:mod:`mbert_lab.data.readers.text`): one leading
U+FEFF is stripped; line ends are ``\\n``, ``\\r\\n`` and a lone ``\\r`` only (never the other
separators ``str.splitlines`` knows, such as U+2028 or U+0085); only ASCII space and tab are
stripped (U+3000 is a token in Japanese data).
"""
