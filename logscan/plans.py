"""Plans: what a match does to the rules, worked out once per kind of match.

What a match does to each rule (its Role) depends only on its signal and on the values of
the fields the rules look at (see Rule.role), so a Plans object works it out once per such
combination and looks it up after that: first by the match's whole fields, which recur (the
same method, path and status over and over), then by the values that matter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from logscan.model import Fields, field_of
from logscan.rules import Role, Rule

BY_GROUP = ("group",)
_BY_VALUES_CACHE = 65536
_BY_FIELDS_CACHE = 4096  # by a match's whole fields (pids and paths vary: kept small)


class Plan(NamedTuple):
    """The rules a match affects and its role in each; `quiet` when every role is quiet
    (Role.quiet) and every rule groups by the record's group: the match itself is not needed."""

    entries: tuple[tuple[Rule, Role], ...]
    quiet: bool


class Plans:
    """The plan of each kind of match, for one set of rules."""

    __slots__ = ("_by_fields", "_by_signal", "_by_values", "_fields")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._by_signal: defaultdict[str, list[Rule]] = defaultdict(list)
        for rule in rules:
            for signal in sorted(rule.signals):
                self._by_signal[signal].append(rule)
        self._fields = {
            signal: tuple(sorted({name for rule in rules for name in rule.fields}))
            for signal, rules in self._by_signal.items()
        }
        self._by_values: dict[tuple[str, ...], Plan] = {}
        self._by_fields: dict[tuple[str, Fields], Plan] = {}

    def of(self, signal: str, fields: Fields) -> Plan:
        """The plan of a match of `signal` with `fields` (a 200 is nothing to the error-burst
        rule)."""
        plan = self._by_fields.get((signal, fields))
        if plan is None:
            plan = self._of_values(signal, fields)
            if len(self._by_fields) < _BY_FIELDS_CACHE:
                self._by_fields[(signal, fields)] = plan
        return plan

    def _of_values(self, signal: str, fields: Fields) -> Plan:
        key = (signal, *(field_of(fields, name) for name in self._fields.get(signal, ())))
        plan = self._by_values.get(key)
        if plan is None:
            roles = ((rule, rule.role(signal, fields)) for rule in self._by_signal.get(signal, ()))
            entries = tuple((rule, role) for rule, role in roles if role.affects)
            quiet = all(role.quiet and rule.group_by == BY_GROUP for rule, role in entries)
            plan = Plan(entries, quiet)
            if len(self._by_values) < _BY_VALUES_CACHE:  # paths can vary without end
                self._by_values[key] = plan
        return plan
