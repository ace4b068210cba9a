"""Rejections counted in C (logscan/_native_reject.c) against the Python path (_feed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logscan import correlator as correlator_module
from logscan.correlator import Correlator
from logscan.model import IncidentEvent, IncidentState, Line, Match
from logscan.patterns import PatternSet
from logscan.rules import Rule, parse_rule
from logscan.window import RatioWindow
from tests.test_correlator import _matches, _rules

native = pytest.importorskip(
    "logscan._native", reason="logscan._native was not built (no C compiler)"
)

T = 1_700_000_000.0


@contextmanager
def _rejections(counted: list[bool] | None) -> Iterator[None]:
    """Within: reject() in C records what it took in `counted`; None: Python does it all."""
    saved = correlator_module._reject

    def recorded(*args: object) -> bool:
        taken = native.reject(*args)
        assert counted is not None
        counted.append(taken)
        return taken

    correlator_module._reject = None if counted is None else recorded
    try:
        yield
    finally:
        correlator_module._reject = saved


def _state(correlator: Correlator) -> list[object]:
    """What every track of the correlator holds: windows, incidents, context."""
    found: list[object] = [correlator.watermark]
    for key, track in correlator._tracks.items():
        window = track.window
        held: object
        if isinstance(window, RatioWindow):
            buckets = [list(bucket) for bucket in window._buckets]
            held = (buckets, window.totals(), window.views(), list(window.evidence))
        else:
            held = window.entries()
        incident = track.incident
        found.append((key, track.last_anchor, track.last_unless, held))
        if incident is not None:
            found.append(
                (incident.freeze(), incident.count, incident.reported_count, incident.views,
                 dict(incident.causes), dict(incident.signals))
            )  # fmt: skip
    return found


def _both(
    rules: Sequence[Rule], matches: list[Match]
) -> tuple[list[object], list[object], list[bool]]:
    """Events after each match, then the state, from Python alone and with C; what C took."""
    counted: list[bool] = []
    results = []
    for taking in (None, counted):
        correlator = Correlator(rules)
        with _rejections(taking):
            events: list[object] = [correlator.observe(match) for match in matches]
            results.append([*events, _state(correlator), correlator.advance(float("inf"))])
    return results[0], results[1], counted


def _events(results: list[object], state: IncidentState) -> list[IncidentEvent]:
    """The events in `state` among the results of _both."""
    *per_match, _, last = results
    found = [event for events in [*per_match, last] for event in events]  # type: ignore[attr-defined]
    return [event for event in found if event.state is state]


def _request(at: float, status: str, group: str = "a", path: str = "/predict") -> Match:
    fields = (("method", "POST"), ("path", path), ("status", status))
    line = Line(source="s", number=int(at), text=f"{status} at {at}", ts=at, group=group)
    return Match(signature="x.request", signal="request", fields=fields, line=line)


def _start(at: float, group: str = "a") -> Match:
    line = Line(source="s", number=int(at), text="Application startup", ts=at, group=group)
    return Match(signature="x.start", signal="service_start", fields=(), line=line)


def _overload(seconds: int, per_second: int = 10) -> list[Match]:
    """Half of each second's requests rejected with 503, 504 or 429, for `seconds`."""
    statuses = ["200", "503", "200", "504", "200", "429"]
    return [
        _request(T + second + n / per_second, statuses[n % len(statuses)])
        for second in range(seconds)
        for n in range(per_second)
    ]


class TestReject:
    def test_an_open_overload_counts_its_rejections_in_c(self, pack: PatternSet) -> None:
        """Most rejections of an open overload are counted in C; the events are the same."""
        python, c, counted = _both(pack.rules, _overload(40))
        assert python == c
        assert ["overload"] == [e.incident.kind for e in _events(c, IncidentState.OPENED)]
        assert counted.count(True) > 0.8 * len(counted)

    def test_a_doubled_count_is_reported_by_python(self, pack: PatternSet) -> None:
        """The rejection that doubles an incident's count is Python's: it reports it."""
        python, c, counted = _both(pack.rules, _overload(40))
        assert python == c
        assert _events(c, IncidentState.UPDATED)
        assert False in counted

    def test_a_rejection_in_an_earlier_second_is_pythons(self, pack: PatternSet) -> None:
        """A rejection of a second before the window's newest bucket goes to Python."""
        matches = [*_overload(10), _request(T + 5.5, "503")]
        python, c, counted = _both(pack.rules, matches)
        assert python == c
        assert counted[-1] is False

    def test_a_503_while_starting_is_pythons(self, pack: PatternSet) -> None:
        """During a start a 503 counts towards a cold start: Python counts it."""
        matches = [_start(T), _request(T + 1, "200"), _request(T + 2, "503")]
        python, c, counted = _both(pack.rules, [_start(T), _request(T + 1, "503")])
        assert python == c
        assert [False] == counted
        python, c, counted = _both(pack.rules, matches)
        assert python == c
        assert [True] == counted  # the 200 ended the start

    def test_a_trickle_below_the_threshold_does_not_hold_it_open(self, pack: PatternSet) -> None:
        """Rejections while the rule no longer holds count, but move no last_seen."""
        trickle = [
            _request(T + 20 + second + n / 20, "503" if n == 0 and second % 5 == 0 else "200")
            for second in range(100)
            for n in range(20)
        ]
        python, c, counted = _both(pack.rules, [*_overload(20), *trickle])
        assert python == c
        assert True in counted[-15:]

    def test_a_rising_severity_is_reported_by_python(self, pack: PatternSet) -> None:
        """The rejection that makes an overload critical is Python's: it reports it."""
        some = [_request(T + n / 5, "503" if n % 4 == 0 else "200") for n in range(100)]
        most = [_request(T + 20 + n / 5, "503") for n in range(100)]
        python, c, counted = _both(pack.rules, [*some, *most])
        severities = [e.incident.severity for e in _events(c, IncidentState.UPDATED)]
        assert python == c
        assert "critical" in severities
        assert True in counted

    def test_the_request_a_rejection_is_counts_in_its_ratio(self) -> None:
        """A rejection is also a request: with it, 5 of 11 is short of a half."""
        rule = {
            "kind": "half", "type": "ratio", "description": "x",
            "numerator": [{"signals": ["request"], "where": {"status": ["503"]}}],
            "denominator": [{"signals": ["request"]}], "min_count": 4, "min_ratio": 0.5,
            "window": "5m", "severity": "warning", "resolve_after": "10m",
        }  # fmt: skip
        statuses = ["503"] * 4 + ["200"] * 6 + ["503"]
        matches = [_request(T + n, status) for n, status in enumerate(statuses)]
        python, c, counted = _both((parse_rule(rule, "t"),), matches)
        assert python == c
        assert True is counted[-1]

    def test_a_cold_start_window_is_pruned_as_python_prunes_it(self, pack: PatternSet) -> None:
        """A 503 long after a start prunes the 503s the start counted, as _feed does."""
        matches = [_start(T), _request(T + 1, "503"), _request(T + 2, "503")]
        matches += [_request(T + 3, "200"), _request(T + 200, "503")]
        python, c, counted = _both(pack.rules, matches)
        assert python == c
        assert True is counted[-1]

    def test_an_empty_cause_gives_way_to_the_status(self, pack: PatternSet) -> None:
        """A rejection whose cause field is empty is caused by its status (http_503)."""
        matches = [
            dataclasses.replace(match, fields=(*match.fields, ("cause", "")))
            for match in _overload(20)
        ]
        python, c, counted = _both(pack.rules, matches)
        assert python == c
        assert True in counted

    def test_a_rejection_prunes_the_seconds_that_left_the_window(self, pack: PatternSet) -> None:
        """A second's bucket leaves the window once a whole window has passed after it."""
        matches = [_request(T, "200"), _request(T + 0.5, "503"), _request(T + 61.5, "503")]
        python, c, counted = _both(pack.rules, matches)
        assert python == c
        assert [True, True] == counted

    def test_a_late_rejection_is_left_alone(self, pack: PatternSet) -> None:
        """A rejection older than the window counts nowhere, in C as in Python."""
        matches = [_request(T + 100, "200"), _request(T, "503")]
        python, c, counted = _both(pack.rules, matches)
        assert python == c
        assert [True] == counted


@settings(max_examples=400)
@given(_matches(), st.booleans())
def test_rejections_counted_in_c_give_the_same_events_and_state(
    pack: PatternSet, matches: list[Match], suppressed: bool
) -> None:
    """Whatever the matches, counting rejections in C changes no event and no state."""
    python, c, _ = _both(_rules(pack, suppressed), matches)
    assert python == c


def test_whole_second_times_count_as_their_floats(pack: PatternSet) -> None:
    """A match whose time is an int (a caller's whole second) counts as its float does."""
    floats = _overload(20)
    ints = [
        dataclasses.replace(m, line=dataclasses.replace(m.line, ts=int(m.line.ts))) for m in floats
    ]
    python, c, counted = _both(pack.rules, ints)
    assert python == c
    assert True in counted
