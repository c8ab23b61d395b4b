"""Python regular expressions rewritten for JavaScript's ``RegExp``, where they mean the same.

The engine searches values with Python's ``re``; GrowthBook's JavaScript SDK with ``new
RegExp(pattern)`` (no flags but ``i``). The two flavours agree on most of what segment rules
use, and differ in places that would silently change answers at the edge:

* ``$`` also matches before a final newline in Python: it becomes ``(?=\\n?$)``.
* ``.`` matches ``\\r`` in Python but not in JavaScript: it becomes ``[^\\n]``. It matches one
  code point in Python and one UTF-16 unit in JavaScript, so it (and a negated class) is only
  accepted before ``*`` or ``+``, where the count does not matter, and only one of them may be
  repeated with ``+`` (two could split one character between them in JavaScript).
* Lookarounds cannot be repeated (the flavours treat ``(?=a)?`` differently).
* ``\\d``, ``\\w``, ``\\s`` and ``\\b`` know Unicode in Python and (mostly) ASCII in
  JavaScript; back-references, ``(?P<name>...)``, inline flags, ``{,n}`` and possessive
  quantifiers exist in one flavour only. Such patterns are refused.
* Case-insensitive matching folds differently (Python's ``s`` also matches ``ſ``, ``k`` the
  Kelvin sign): for ``$regexi``, each ASCII letter becomes a class of exactly the characters
  Python's ``re.IGNORECASE`` accepts for it, and the pattern is searched case-sensitively.
  Other cased letters, and letters inside classes, are refused.
* Characters outside the Basic Multilingual Plane are refused in patterns.

:func:`javascript_pattern` returns the rewritten pattern or raises :class:`Unsupported` with the
reason, which the manifest reports for an origin-only segment.
"""

from __future__ import annotations

import re

__all__ = ["Unsupported", "javascript_pattern"]

#: Per ASCII letter, every character Python's ``re.IGNORECASE`` matches it with (checked against
#: ``re`` over the whole Basic Multilingual Plane by the tests).
IGNORECASE_CLASSES: dict[str, str] = {
    **{letter: letter.upper() + letter for letter in "abcdefghjlmnopqrtuvwxyz"},
    "i": "Ii\u0130\u0131",
    "k": "Kk\u212a",
    "s": "Ss\u017f",
}

# Escapes that mean the same character in both flavours.
_CONTROL_ESCAPES = frozenset("nrtfv")
_QUANTIFIER = re.compile(r"\{(\d+)(?:,(\d*))?\}")
# Sequences Python may read as set operations in a future version; JavaScript reads them
# literally.
_SET_OPERATIONS = ("--", "&&", "~~", "||")

_ATOM = "atom"  # a single character or a group: any quantifier works
_WIDE = "wide"  # "." or a negated class: only * and + count the same in both flavours
_WIDE_GROUP = "wide group"  # a group holding one: no counted repeat ({m,n})


class Unsupported(ValueError):
    """A pattern whose JavaScript reading could differ from Python's; the message says why."""


def javascript_pattern(pattern: str, insensitive: bool = False) -> str:
    """Rewrite a Python pattern (already valid in ``re``) for GrowthBook's ``$regex``.

    Args:
        pattern: The Python regular expression.
        insensitive: Whether it is searched ignoring case (``$regexi``, ``$notRegexi``).

    Returns:
        A JavaScript pattern that finds a match in exactly the strings the Python one does,
        searched without flags.

    Raises:
        Unsupported: The pattern uses something the flavours read differently.
    """
    return _Rewriter(pattern, insensitive).run()


class _Rewriter:
    def __init__(self, pattern: str, insensitive: bool) -> None:
        self.pattern = pattern
        self.insensitive = insensitive
        self.out: list[str] = []
        self.index = 0
        #: What the last token can be repeated as (None: it cannot be quantified).
        self.kind: str | None = None
        #: Per open group, whether it holds a "." or a negated class.
        self.groups: list[bool] = []
        #: Per open group, whether it is a lookaround (which cannot be repeated).
        self.lookarounds: list[bool] = []
        #: How many "." or negated classes (or groups holding them) are repeated with +.
        self.wide_pluses = 0

    def run(self) -> str:
        if any(ord(char) > 0xFFFF or 0xD800 <= ord(char) < 0xE000 for char in self.pattern):
            # A lone surrogate in JavaScript finds one half of a pair, in Python nothing.
            raise Unsupported("characters outside the Basic Multilingual Plane or surrogates")
        while self.index < len(self.pattern):
            self._token()
        if self.kind == _WIDE:
            self._wide_needs_repeat()
        return "".join(self.out)

    def _emit(self, text: str, kind: str | None, width: int = 1) -> None:
        if self.kind == _WIDE:
            self._wide_needs_repeat()
        self.out.append(text)
        self.kind = kind
        self.index += width

    def _wide_needs_repeat(self) -> None:
        raise Unsupported(
            '"." and negated classes only before * or + (they count characters differently)'
        )

    def _token(self) -> None:
        char = self.pattern[self.index]
        if char == "\\":
            self._emit(self._escape(self.pattern[self.index + 1 : self.index + 2]), _ATOM, 2)
        elif char == ".":
            self._emit("[^\\n]", _WIDE)
        elif char == "[":
            self._class()
        elif char == "(":
            self._group()
        elif char == ")":
            wide = self.groups.pop() if self.groups else False
            lookaround = self.lookarounds.pop() if self.lookarounds else False
            if wide and self.groups:
                self.groups[-1] = True
            self._emit(")", None if lookaround else _WIDE_GROUP if wide else _ATOM)
        elif char in "|^":
            self._emit(char, None)
        elif char == "$":
            self._emit("(?=\\n?$)", None)
        elif char in "*+?":
            self._quantifier(char, 1)
        elif char == "{":
            match = _QUANTIFIER.match(self.pattern, self.index)
            if match is None:
                raise Unsupported('a "{" that is not a quantifier {m}, {m,} or {m,n}')
            self._quantifier(match.group(0), len(match.group(0)))
        elif char in "]}":
            self._emit("\\" + char, _ATOM)
        else:
            self._emit(self._literal(char), _ATOM)

    def _escape(self, char: str) -> str:
        if char in _CONTROL_ESCAPES:
            return "\\" + char
        if char.isascii() and not char.isalnum():
            return "\\" + char
        if not char.isascii():
            return self._literal(char)
        raise Unsupported(f"the escape \\{char} (its meaning differs; write a class such as [0-9])")

    def _literal(self, char: str) -> str:
        if not self.insensitive or char.lower() == char.upper():
            return char
        if char.isascii():
            return f"[{IGNORECASE_CLASSES[char.lower()]}]"
        raise Unsupported(f"the letter {char!r} with $regexi (case folding differs)")

    def _quantifier(self, text: str, width: int) -> None:
        if self.kind is None:
            raise Unsupported("a quantifier that repeats nothing or a lookaround")
        if self.kind == _WIDE and text not in "*+":
            self._wide_needs_repeat()
        if self.kind == _WIDE_GROUP and text.startswith("{"):
            raise Unsupported("a counted repeat {m,n} of a group holding . or a negated class")
        if self.kind == _WIDE and self.groups:
            self.groups[-1] = True
        if self.kind in (_WIDE, _WIDE_GROUP) and text == "+":
            self.wide_pluses += 1
            if self.wide_pluses > 1:
                raise Unsupported(
                    'more than one "." or negated class repeated with + (a character outside '
                    "the Basic Multilingual Plane counts as two in JavaScript)"
                )
        self.out.append(text)
        self.index += width
        self.kind = None
        if self.pattern[self.index : self.index + 1] == "?":
            self.out.append("?")
            self.index += 1
        if self.pattern[self.index : self.index + 1] == "+":
            raise Unsupported("a possessive quantifier")

    def _group(self) -> None:
        rest = self.pattern[self.index + 1 : self.index + 4]
        if not rest.startswith("?"):
            self._emit("(", None)
            self.groups.append(False)
            self.lookarounds.append(False)
            return
        for opener in ("?:", "?=", "?!", "?<=", "?<!"):
            if rest.startswith(opener):
                self._emit("(" + opener, None, 1 + len(opener))
                self.groups.append(False)
                self.lookarounds.append(opener != "?:")
                return
        raise Unsupported("a group of the form (?...) other than (?:, (?=, (?!, (?<= and (?<!")

    def _class(self) -> None:
        start = self.index
        position = start + 1
        negated = self.pattern[position : position + 1] == "^"
        position += negated
        if self.pattern[position : position + 1] == "]":
            raise Unsupported('a "]" first in a class (JavaScript reads [] as an empty class)')
        parts = ["[^" if negated else "["]
        while position < len(self.pattern) and self.pattern[position] != "]":
            char = self.pattern[position]
            if char == "[" or self.pattern[position : position + 2] in _SET_OPERATIONS:
                raise Unsupported(f"{self.pattern[position:position + 2]!r} inside a class")
            if char == "\\":
                parts.append(self._escape(self.pattern[position + 1 : position + 2]))
                position += 2
                continue
            if self.insensitive and char.lower() != char.upper():
                raise Unsupported("letters inside a class with $regexi (case folding differs)")
            if self.insensitive and char == "-" and not self._digit_range(position):
                raise Unsupported("a range other than digits inside a class with $regexi")
            parts.append(char)
            position += 1
        parts.append("]")
        self._emit("".join(parts), _WIDE if negated else _ATOM, position + 1 - start)

    def _digit_range(self, position: int) -> bool:
        """Whether the "-" at ``position`` of a class is literal or joins two digits."""
        before = self.pattern[position - 1 : position]
        after = self.pattern[position + 1 : position + 2]
        if before in ("[", "^") or after == "]":
            return True  # first or last: a literal "-"
        return before.isascii() and before.isdigit() and after.isascii() and after.isdigit()
