"""Errors a user can act on.

Every error raised for bad input derives from :class:`MbertLabError`; the CLI prints its
message (no traceback) and exits with code 2. Messages name the bad value, the file and
line where there is one, and the valid choices.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class MbertLabError(Exception):
    """Base class for errors caused by user input or environment, not by a bug."""

    exit_code = 2


class InputError(MbertLabError):
    """Bad input data: names the file and (1-based) line where possible.

    >>> str(InputError("empty line", path="a.txt", line=3))
    'a.txt:3: empty line'
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        super().__init__(where + message)


class ConfigError(MbertLabError):
    """A bad option value or combination."""


class ModelLoadError(MbertLabError):
    """A model or tokenizer cannot be loaded."""


class DataMissingError(MbertLabError):
    """A dataset is not present where it was looked for."""


def choice_error(kind: str, value: object, choices: Iterable[str]) -> ConfigError:
    """A ConfigError for an unknown name, with a 'did you mean' and the valid choices.

    >>> str(choice_error("method", "argamx", ["argmax", "itermax"]))
    "unknown method 'argamx' (did you mean 'argmax'?); valid choices: argmax, itermax"
    """
    choices = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"unknown {kind} '{value}'{hint}; valid choices: {', '.join(choices)}")
