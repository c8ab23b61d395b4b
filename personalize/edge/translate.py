"""Conditions rewritten so that GrowthBook's JavaScript SDK gives the engine's answers.

The engine compares strictly, as GrowthBook's Python SDK does; the JavaScript SDK
(``evalCondition`` of ``@growthbook/growthbook``) compares loosely in places. Each difference
is closed by rewriting the condition into one the JavaScript SDK evaluates strictly:

=================================  ===============================  ==========================
engine (condition as saved)        JavaScript SDK would             manifest sends
=================================  ===============================  ==========================
``{"path": "5"}`` (plain scalar)   also match ``5``, ``["5"]``      ``{"path": {"$eq": "5"}}``
``{"path": 0}`` / ``true``         match a missing value / truthy   ``{"$eq": 0}``
``{"$lt": 10}``, ``{"$gte": "x"}`` take ``null`` as 0, ``"8"`` > 5  adds ``"$type": "number"``
``{"$regex": p}``                  test ``String(value)``           adds ``"$type": "string"``
``{"$notRegex": p}``               (unknown operator: fail)         ``{"$not": {..."$regex"}}``
``{"$vgt": "1.2"}``                read non-strings as ``"0"``      adds ``"$type": "string"``
``{"$alli": ["x"]}``               fold ``String(element)``         ``{"$all": [{$type, $ini}]}``
``{"path": {}}``                   compare with the object ``{}``   ``{"$nin": []}`` (always)
=================================  ===============================  ==========================

Regular expressions are rewritten by :mod:`personalize.edge.regex`. What cannot be rewritten
raises :class:`OriginOnly` with the reason: attributes the edge does not have, whole-object
comparisons, integers beyond 2**53, path names JavaScript finds on every object
(``constructor``...), ``$elemMatch`` conditions made only of logical operators, several
negations under one path, version orderings beyond U+D7FF (code point and UTF-16 order differ)
and case-insensitive strings whose case mapping differs between Unicode versions.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from personalize.edge.regex import Unsupported, javascript_pattern
from personalize.rules.versions import padded_version

__all__ = ["OriginOnly", "edge_condition"]

#: Passes whatever the value is (an empty object of operators).
ALWAYS: dict[str, Any] = {"$nin": []}
#: Fails whatever the value is (operators that need two different types).
NEVER: dict[str, Any] = {"$in": []}

#: Names JavaScript's ``in`` finds on every object or array: GrowthBook's path reader would
#: read a function where the engine reads nothing.
PROTOTYPE_NAMES = frozenset(
    {
        *("constructor", "__proto__", "__defineGetter__", "__defineSetter__"),
        *("__lookupGetter__", "__lookupSetter__", "hasOwnProperty", "isPrototypeOf"),
        *("propertyIsEnumerable", "toLocaleString", "toString", "valueOf"),
    }
)
#: Names JavaScript's ``in`` also finds on every array, which ``$elemMatch`` conditions may
#: meet (the contract keeps attribute paths from reading into arrays by name).
ARRAY_NAMES = frozenset(
    {
        *("at", "concat", "copyWithin", "entries", "every", "fill", "filter", "find"),
        *("findIndex", "findLast", "findLastIndex", "flat", "flatMap", "forEach", "includes"),
        *("indexOf", "join", "keys", "lastIndexOf", "map", "pop", "push", "reduce"),
        *("reduceRight", "reverse", "shift", "slice", "some", "sort", "splice", "toReversed"),
        *("toSorted", "toSpliced", "unshift", "values", "with"),
    }
)
# Larger integers lose precision as JavaScript numbers.
_MAX_SAFE_INTEGER = 2**53 - 1
_LOGICAL = ("$and", "$or", "$nor")
_ORDERINGS = ("$lt", "$lte", "$gt", "$gte")
_VERSIONS = ("$veq", "$vgt", "$vgte", "$vlt", "$vlte")
_VERSION_ORDERINGS = ("$vgt", "$vgte", "$vlt", "$vlte")
# From here on, code point order (Python) and UTF-16 code unit order (JavaScript) can differ.
_FIRST_SURROGATE = 0xD800
_CASED = ("Ll", "Lu", "Lt")

#: Tells whether the edge computes an attribute path: None if it does, else the reason.
PathCheck = Callable[[str], str | None]


class OriginOnly(ValueError):
    """A condition the edge cannot evaluate exactly as the origin does; the message says why."""


def edge_condition(condition: Mapping[str, Any], check_path: PathCheck) -> dict[str, Any]:
    """Rewrite a valid condition for GrowthBook's JavaScript SDK.

    Args:
        condition: A condition that compiles (a live segment's).
        check_path: Whether the edge computes an attribute path (None) or why not.

    Returns:
        A condition that ``evalCondition`` answers exactly as the engine does, for attributes
        typed as the attribute contract says.

    Raises:
        OriginOnly: The condition cannot be evaluated at the edge; the message says why.
    """
    return _Translator(check_path).condition(condition)


class _Translator:
    def __init__(self, check_path: PathCheck | None) -> None:
        self.check_path = check_path
        #: Inside an $elemMatch condition, paths read fields of elements, arrays included.
        self.names = PROTOTYPE_NAMES if check_path is not None else PROTOTYPE_NAMES | ARRAY_NAMES

    def condition(self, condition: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in condition.items():
            if key in _LOGICAL:
                out[key] = [self.condition(item) for item in value]
            elif key == "$not":
                out[key] = self.condition(value)
            else:
                self._path(key)
                out[key] = self.under_path(value)
        return out

    def _path(self, path: str) -> None:
        if path.startswith("$"):
            # GrowthBook reads "$savedGroup" (and may read others) as operators.
            raise OriginOnly(f'the path "{path}" starts with $')
        for name in path.split("."):
            if name in self.names:
                raise OriginOnly(f'the path "{path}" names {name!r}, which every object has in JS')
        if self.check_path is not None:
            reason = self.check_path(path)
            if reason is not None:
                raise OriginOnly(reason)

    def under_path(self, value: Any) -> dict[str, Any] | list[Any]:
        if isinstance(value, Mapping) and all(key.startswith("$") for key in value):
            return self.operators(value)
        return self.literal(value)

    def literal(self, value: Any) -> dict[str, Any] | list[Any]:
        if isinstance(value, Mapping):
            raise OriginOnly("it compares a whole object, whose keys the edge may not reproduce")
        if isinstance(value, list):
            return [_json(item) for item in value]
        return {"$eq": _json(value)}

    def operators(self, ops: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        types: set[str] = set()
        negations: list[Any] = []
        for op, operand in ops.items():
            self._operator(op, operand, out, types, negations)
        if len(negations) > 1:
            raise OriginOnly("several negations under one path ($not, $notRegex, $vne)")
        if negations:
            out["$not"] = negations[0]
        if types:
            if len(types) > 1 or out.get("$type", next(iter(types))) != next(iter(types)):
                return dict(NEVER)
            out["$type"] = next(iter(types))
        return out or dict(ALWAYS)

    def _operator(
        self, op: str, operand: Any, out: dict[str, Any], types: set[str], negations: list[Any]
    ) -> None:
        if op in _ORDERINGS:
            types.add("string" if isinstance(operand, str) else "number")
            out[op] = _json(operand)
        elif op in ("$regex", "$regexi", "$notRegex", "$notRegexi"):
            test = {"$type": "string", "$regex": _pattern(operand, op.endswith("i"))}
            if op.startswith("$not"):
                negations.append(test)
            else:
                _put(out, "$regex", test["$regex"])
                types.add("string")
        elif op in _VERSIONS or op == "$vne":
            kind = "string" if isinstance(operand, str) else "number"
            if op in _VERSION_ORDERINGS and kind == "string":
                _check_version_order(operand)
            if op == "$vne":
                negations.append({"$type": kind, "$veq": _json(operand)})
            else:
                types.add(kind)
                out[op] = _json(operand)
        elif op == "$not":
            negations.append(self.under_path(operand))
        elif op == "$size":
            out[op] = self.under_path(operand) if isinstance(operand, Mapping) else _json(operand)
        elif op in ("$all", "$alli"):
            entries = [self._all_entry(item, op == "$alli") for item in operand]
            out["$all"] = [*out.get("$all", []), *entries]
        elif op == "$elemMatch":
            out[op] = self._elem_match(operand)
        else:  # $eq, $ne, $in, $nin, $ini, $nini, $exists, $type: the same in both SDKs
            if op in ("$ini", "$nini"):
                for item in operand:
                    _check_folding(item)
            _put(out, op, _json(operand))

    def _all_entry(self, item: Any, insensitive: bool) -> Any:
        if insensitive and isinstance(item, str):
            _check_folding(item)
            return {"$type": "string", "$ini": [item]}
        return self.under_path(item)

    def _elem_match(self, operand: Mapping[str, Any]) -> dict[str, Any]:
        if all(key.startswith("$") for key in operand) and not any(
            key in operand for key in _LOGICAL
        ):
            return self.operators(operand)
        if operand and all(key.startswith("$") for key in operand):
            raise OriginOnly("an $elemMatch condition made only of $and, $or, $nor or $not")
        # A condition on each element's fields: no attribute contract applies to them.
        return _Translator(None).condition(operand)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if key in out:
        raise OriginOnly(f"two {key} tests under one path")
    out[key] = value


def _check_version_order(operand: str) -> None:
    """Refuse a version whose order against a visitor's could differ in JavaScript.

    Python orders the padded versions by code point, JavaScript by UTF-16 code unit: the two
    disagree where one side has a character from U+E000 to U+FFFF and the other one beyond
    U+FFFF. A visitor's value may hold either, so only versions below U+D800 are safe.
    """
    if any(ord(char) >= _FIRST_SURROGATE for char in padded_version(operand)):
        raise OriginOnly(
            f"the version {operand!r} orders differently in JavaScript (characters from U+D800)"
        )


def _check_folding(text: Any) -> None:
    """Refuse a string compared ignoring case whose lower case may differ in JavaScript.

    Both SDKs lower both sides (``str.lower()``, ``toLowerCase()``); they agree on every
    character both Unicode versions know. Newer versions give letters that had no other case
    one (U+A7CB lowers to "ɤ" in JavaScript today and is unassigned in older Pythons), so a
    string with an unassigned character, or with a letter that has no other case here, could
    match a visitor's value in one engine only.
    """
    if not isinstance(text, str) or text.isascii():
        return
    for char in text:
        category = unicodedata.category(char)
        uncased = category in _CASED and char.lower() == char.upper() == char
        if category == "Cn" or uncased:
            raise OriginOnly(
                f"{text!r} is compared ignoring case and holds {char!r} (U+{ord(char):04X}), "
                "whose case mapping differs between Unicode versions"
            )


def _pattern(pattern: str, insensitive: bool) -> str:
    try:
        return javascript_pattern(pattern, insensitive)
    except Unsupported as exc:
        raise OriginOnly(f"the regular expression {pattern!r}: {exc}") from None


def _json(value: Any) -> Any:
    """A constant as JavaScript reads it from JSON; refuses those it would read differently."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and abs(value) > _MAX_SAFE_INTEGER:
        raise OriginOnly(f"the integer {value} is beyond what JavaScript numbers hold exactly")
    if isinstance(value, float) and not math.isfinite(value):
        raise OriginOnly("a number that is not finite")
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _json(item) for key, item in value.items()}
    return value
