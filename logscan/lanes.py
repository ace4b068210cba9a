"""Lanes: what a plan does in one group, worked out once, for the paths that skip `_feed`.

A quiet plan's `Lane` (track.py) serves Correlator.observe_quiet and the C part's `weigh`; a
rejection's lane serves logscan/_native_reject.c. Both are kept by (plan, group), bounded:
paths and groups can vary without end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logscan.plans import BY_GROUP, Plan
from logscan.rules import Rule, RuleType
from logscan.track import Lane, Track, weighing
from logscan.window import RatioWindow

_LANES = 4096  # lanes of each sort kept

RejectionLane = tuple[tuple[Any, ...], ...]


class Lanes:
    """The lanes of one correlator's plans, given how it finds a rule's track in a group."""

    __slots__ = ("_quiet", "_rejecting", "_track")

    def __init__(self, track: Callable[[Rule, str], Track]) -> None:
        self._track = track
        # By (id(plan), group); the plan is kept with its lane, so its id stays its own.
        self._quiet: dict[tuple[int, str], tuple[Plan, Lane]] = {}
        self._rejecting: dict[tuple[int, str], tuple[Plan, RejectionLane | None]] = {}

    def quiet(self, plan: Plan, key: str) -> Lane:
        """The tracks a quiet plan touches in group `key`."""
        known = self._quiet.get((id(plan), key))
        if known is not None and known[0] is plan:
            return known[1]
        ends, counts = [], []
        for rule, role in plan.entries:
            track = self._track(rule, key)
            if role.until:
                ends.append(track)
            if role.denominator and isinstance(track.window, RatioWindow):
                suppressible = bool(rule.unless) or rule.type is RuleType.AFTER
                counts.append((rule, track, track.window, suppressible))
        lane = Lane(tuple(ends), tuple(counts))
        if len(self._quiet) < _LANES:
            self._quiet[(id(plan), key)] = (plan, lane)
        return lane

    def rejection(self, plan: Plan, key: str) -> RejectionLane | None:
        """What a plan that ratio rules count as a rejection does in group `key`, as
        logscan/_native_reject.c takes it (see there); None where it may do more than count
        (Correlator._feed does it)."""
        known = self._rejecting.get((id(plan), key))
        if known is not None and known[0] is plan:
            return known[1]
        lane = self._rejection_entries(plan, key)
        if len(self._rejecting) < _LANES:
            self._rejecting[(id(plan), key)] = (plan, lane)
        return lane

    def _rejection_entries(self, plan: Plan, key: str) -> RejectionLane | None:
        entries = []
        for rule, role in plan.entries:
            if (
                rule.group_by != BY_GROUP or rule.unless or not role.selected
                or role.unless or role.anchor or role.until or role.replacement
            ):  # fmt: skip
                return None
            track = self._track(rule, key)
            if rule.type is RuleType.RATIO:
                entries.append((*weighing(rule, track), role.selected, role.denominator))
            elif rule.type is RuleType.AFTER and not role.denominator:
                entries.append((track.window, float(rule.window), float(rule.anchor_within), track))
            else:
                return None
        return tuple(entries)
