"""Rules: how signals become incidents. Parsed and validated here; evaluated by the correlator.

A rule is data from a pack's `[[rule]]` table. Every key is checked at load time, so a typo
stops the run with the file, the rule's kind and the key, instead of silently never firing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from logscan.durations import parse_duration
from logscan.model import Fields, Severity, field_of

_E = TypeVar("_E", bound=enum.StrEnum)


class RuleType(enum.StrEnum):
    """How a rule decides that it holds."""

    THRESHOLD = "threshold"  # at least min_count selected signals in the window
    RATIO = "ratio"  # numerator / denominator over the window, with a floor on the count
    AFTER = "after"  # selected signals within `within` after an anchor signal
    SINGLE = "single"  # any one selected signal


@dataclass(frozen=True, slots=True, kw_only=True)
class Selector:
    """Matches of some signals whose fields take some values (and not others)."""

    signals: frozenset[str]
    where: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[tuple[str, frozenset[str]], ...] = ()

    def selects(self, signal: str, fields: Fields) -> bool:
        if signal not in self.signals:
            return False
        for name, values in self.where:
            if field_of(fields, name) not in values:
                return False
        return not any(field_of(fields, name) in values for name, values in self.exclude)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unless:
    """Suppress a counted signal that comes within `within` seconds after one of `signals`."""

    signals: frozenset[str]
    within: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    """What one match does to one rule (see Rule.role)."""

    affects: bool  # any of the below, or it names the replacement signal
    unless: bool  # it suppresses counting for a while (a graceful restart)
    anchor: bool  # it starts an "after" period (the service starts)
    until: bool  # it ends the "after" period (the service answered)
    replacement: bool  # a worker booted: a replacement, if deaths are being counted
    selected: tuple[int, ...]  # the select (ratio: numerator) selectors that count it
    denominator: bool  # a ratio rule counts it among all requests

    @property
    def quiet(self) -> bool:
        """At most it ends an "after" period or adds to a ratio rule's requests: it cannot
        open or grow an incident while that rule counts fewer than min_count rejections."""
        return not (self.unless or self.anchor or self.replacement or self.selected)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One incident rule; see DESIGN.md, "Pattern packs" and "Incidents"."""

    kind: str
    type: RuleType
    select: tuple[Selector, ...]  # what is counted, any one selecting (ratio: numerator views)
    denominator: tuple[Selector, ...] = ()
    anchor: Selector | None = None  # the "after" signal
    anchor_within: float = 0.0
    until: tuple[Selector, ...] = ()  # signals that end the "after" period early (ready)
    distinct: str = ""
    min_count: int = 1
    min_ratio: float = 0.0
    critical_ratio: float = 0.0
    critical_on_replacement: str = ""  # signal whose distinct value marks a replacement worker
    window: float = 60.0
    group_by: tuple[str, ...] = ("group",)
    unless: Unless | None = None
    explained_by: frozenset[str] = frozenset()
    count_duplicates: bool = False
    severity: Severity = Severity.WARNING
    resolve_after: float = 300.0
    pack: str = ""

    def _selectors(self) -> tuple[Selector, ...]:
        anchor = (self.anchor,) if self.anchor else ()
        return (*self.select, *self.denominator, *anchor, *self.until)

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields this rule's selectors look at: with the signal, they decide `role`."""
        names = {name for s in self._selectors() for name, _ in (*s.where, *s.exclude)}
        return tuple(sorted(names))

    def role(self, signal: str, fields: Fields) -> Role:
        """What a match of `signal` with `fields` does to this rule. It depends only on the
        values of `self.fields`, so the correlator works it out once per combination."""
        unless = bool(self.unless and signal in self.unless.signals)
        replacement = bool(self.distinct) and signal == self.critical_on_replacement
        anchor = self.anchor is not None and self.anchor.selects(signal, fields)
        until = not anchor and any(selector.selects(signal, fields) for selector in self.until)
        selected = tuple(
            i for i, selector in enumerate(self.select) if selector.selects(signal, fields)
        )
        denominator = any(selector.selects(signal, fields) for selector in self.denominator)
        affects = (
            unless or anchor or until or bool(selected) or denominator
            or signal == self.critical_on_replacement
        )  # fmt: skip
        return Role(
            affects=affects, unless=unless, anchor=anchor, until=until,
            replacement=replacement, selected=selected, denominator=denominator,
        )  # fmt: skip

    @property
    def signals(self) -> frozenset[str]:
        """Every signal this rule needs to see."""
        found: set[str] = set()
        for selector in (*self.select, *self.denominator):
            found |= selector.signals
        if self.anchor:
            found |= self.anchor.signals
        for selector in self.until:
            found |= selector.signals
        if self.unless:
            found |= self.unless.signals
        if self.critical_on_replacement:
            found.add(self.critical_on_replacement)
        return frozenset(found)


_KEYS = {
    "kind", "type", "signals", "where", "select", "exclude", "numerator", "denominator", "after",
    "distinct", "min_count", "min_ratio", "critical_ratio", "critical_on_replacement", "window",
    "group_by", "unless", "explained_by", "count_duplicates", "severity", "resolve_after",
    "description",
}  # fmt: skip


_AFTER_KEYS = {"signals", "within", "until"}


def parse_rule(table: Mapping[str, Any], pack: str) -> Rule:
    """A Rule from one `[[rule]]` table; ValueError names the offending key."""
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}")
    kind = _text(table, "kind")
    rule_type = _choice(table, "type", RuleType)
    exclude = _field_sets(table.get("exclude", {}), "exclude")
    if rule_type is RuleType.RATIO:
        select = _selectors(table.get("numerator"), "numerator", exclude)
        denominator = _selectors(table.get("denominator"), "denominator", exclude)
    elif "select" in table:
        if "signals" in table or "where" in table:
            raise ValueError("give either 'select' or 'signals' (with 'where'), not both")
        select = _selectors(table["select"], "select", exclude)
        denominator = ()
    else:
        select = (_selector(table, "signals", exclude),)
        denominator = ()
    anchor, anchor_within, until = _after(table.get("after"), rule_type)
    return Rule(
        kind=kind,
        type=rule_type,
        select=select,
        denominator=denominator,
        anchor=anchor,
        anchor_within=anchor_within,
        until=until,
        distinct=str(table.get("distinct", "")),
        min_count=_positive_int(table, "min_count", 1),
        min_ratio=_fraction(table, "min_ratio"),
        critical_ratio=_fraction(table, "critical_ratio"),
        critical_on_replacement=str(table.get("critical_on_replacement", "")),
        window=_duration(table, "window", 60.0),
        group_by=tuple(_strings(table.get("group_by", ["group"]), "group_by")),
        unless=_unless(table.get("unless")),
        explained_by=frozenset(_strings(table.get("explained_by", []), "explained_by")),
        count_duplicates=_flag(table, "count_duplicates"),
        severity=_choice(table, "severity", Severity, Severity.WARNING),
        resolve_after=_duration(table, "resolve_after", 300.0),
        pack=pack,
    )


def _text(table: Mapping[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


def _choice(table: Mapping[str, Any], key: str, choices: type[_E], default: _E | None = None) -> _E:
    value = table.get(key, default)
    try:
        return choices(value)
    except ValueError:
        allowed = " | ".join(choices)
        raise ValueError(f"{key!r} must be one of {allowed}, got {value!r}") from None


def _strings(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key!r} must be a list of strings")
    return value


def _field_sets(value: object, key: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} must be a table of field = [values]")
    return tuple(
        (name, frozenset(_strings(values, f"{key}.{name}"))) for name, values in value.items()
    )


def _selector(
    table: Mapping[str, Any], key: str, exclude: tuple[tuple[str, frozenset[str]], ...]
) -> Selector:
    signals = _strings(table.get(key), key)
    if not signals:
        raise ValueError(f"{key!r} must name at least one signal")
    where = _field_sets(table.get("where", {}), "where")
    return Selector(signals=frozenset(signals), where=where, exclude=exclude)


def _selectors(
    value: object, key: str, exclude: tuple[tuple[str, frozenset[str]], ...]
) -> tuple[Selector, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{key!r} must be a list of {{ signals = [...], where = {{...}} }}")
    for item in value:
        if not isinstance(item, dict):
            raise ValueError(f"{key!r} must be a list of tables")
        if unknown := sorted(set(item) - {"signals", "where"}):
            raise ValueError(f"unknown key {key}.{unknown[0]!r}")
    return tuple(_selector(item, "signals", exclude) for item in value)


def _after(
    value: object, rule_type: RuleType
) -> tuple[Selector | None, float, tuple[Selector, ...]]:
    if rule_type is not RuleType.AFTER:
        if value is not None:
            raise ValueError("'after' only applies to type = \"after\"")
        return None, 0.0, ()
    if not isinstance(value, dict) or not {"signals", "within"} <= set(value) <= _AFTER_KEYS:
        raise ValueError("'after' must be { signals = [...], within = \"60s\", until = [...] }")
    until = _selectors(value["until"], "after.until", ()) if "until" in value else ()
    return _selector(value, "signals", ()), _duration(value, "within", 0.0), until


def _unless(value: object) -> Unless | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"signals", "within"}:
        raise ValueError("'unless' must be { signals = [...], within = \"30s\" }")
    signals = frozenset(_strings(value["signals"], "unless.signals"))
    return Unless(signals=signals, within=_duration(value, "within", 0.0))


def _duration(table: Mapping[str, Any], key: str, default: float) -> float:
    if key not in table:
        return default
    try:
        return parse_duration(table[key])
    except ValueError as error:
        raise ValueError(f"{key!r}: {error}") from None


def _positive_int(table: Mapping[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key!r} must be a whole number of at least 1, got {value!r}")
    return value


def _fraction(table: Mapping[str, Any], key: str) -> float:
    value = table.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{key!r} must be a number from 0 to 1, got {value!r}")
    return float(value)


def _flag(table: Mapping[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} must be true or false, got {value!r}")
    return value
