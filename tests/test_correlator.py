"""The correlator's rules, as an SRE reads them (DESIGN.md, "Incidents")."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.correlator import Correlator
from logscan.model import IncidentState, Line, Match, Severity
from logscan.patterns import PatternSet
from logscan.rules import Rule, parse_rule
from tests.conftest import T0, access, gunicorn, opened, run


def timeout_death(at: float, pid: int, master: int = 1) -> list[tuple[float, str]]:
    """How gunicorn >= 20.1 logs one timed-out worker: TIMEOUT, Worker exiting, SIGKILL."""
    return [
        (at, gunicorn(at, master, "CRITICAL", f"WORKER TIMEOUT (pid:{pid})")),
        (at, gunicorn(at, pid, "INFO", f"Worker exiting (pid: {pid})")),
        (at + 1, gunicorn(at + 1, master, "ERROR", f"Worker (pid:{pid}) was sent SIGKILL! Perhaps out of memory?")),
    ]  # fmt: skip


def boot(at: float, pid: int) -> tuple[float, str]:
    return (at, gunicorn(at, pid, "INFO", f"Booting worker with pid: {pid}"))


def startup(at: float = 0, workers: tuple[int, ...] = (10, 11, 12, 13)) -> list[tuple[float, str]]:
    return [
        (at, gunicorn(at, 1, "INFO", "Starting gunicorn 23.0.0")),
        *(boot(at, pid) for pid in workers),
    ]


class TestCrashLoop:
    def test_one_death_logged_three_ways_counts_once_with_cause_timeout(
        self, pack: PatternSet
    ) -> None:
        """TIMEOUT + Worker exiting + SIGKILL for one pid is one death, caused by the timeout."""
        records = startup() + timeout_death(10, 10) + timeout_death(11, 11) + timeout_death(12, 12)
        [event] = opened(run(pack, records), "crash_loop")
        assert 3 == event.incident.count
        assert "timeout" == event.incident.cause

    def test_two_deaths_are_not_a_loop(self, pack: PatternSet) -> None:
        """Below min_count (3 distinct workers) nothing opens, however many lines they log."""
        records = startup() + timeout_death(10, 10) + timeout_death(12, 11)
        assert [] == opened(run(pack, records))

    def test_mass_death_once_is_a_warning(self, pack: PatternSet) -> None:
        """All workers dying at once, once, is a warning."""
        records = startup() + [r for pid in (10, 11, 12, 13) for r in timeout_death(20, pid)]
        [event] = opened(run(pack, records), "crash_loop")
        assert Severity.WARNING == event.incident.severity

    def test_replacements_dying_too_is_critical(self, pack: PatternSet) -> None:
        """When the workers booted to replace the dead ones die as well, it is critical."""
        records = startup(workers=(10, 11))
        records += timeout_death(20, 10) + timeout_death(20, 11)
        records += [boot(22, 20), boot(22, 21)]
        records += timeout_death(40, 20)
        [event] = opened(run(pack, records), "crash_loop")
        assert Severity.CRITICAL == event.incident.severity

    def test_replacement_booted_in_the_same_second_counts(self, pack: PatternSet) -> None:
        """With whole-second stamps, a boot logged after a death in the same second replaces it."""
        records = startup(workers=(10, 11))
        records += timeout_death(20, 10)
        records.append(boot(20, 20))
        records += timeout_death(20, 11)
        records.append(boot(20, 21))
        records += timeout_death(20, 20)
        [event] = opened(run(pack, records), "crash_loop")
        assert Severity.CRITICAL == event.incident.severity

    def test_second_wave_after_warning_updates_to_critical(self, pack: PatternSet) -> None:
        """A warning crash loop whose replacements die is updated to critical."""
        records = startup(workers=(10, 11, 12))
        records += [r for pid in (10, 11, 12) for r in timeout_death(20, pid)]
        records += [boot(22, 20), boot(22, 21), boot(22, 22)]
        records += timeout_death(50, 20)
        events = [e for e in run(pack, records) if e.incident.kind == "crash_loop"]
        assert [IncidentState.OPENED, IncidentState.UPDATED] == [e.state for e in events]
        assert [Severity.WARNING, Severity.CRITICAL] == [e.incident.severity for e in events]

    def test_startup_boots_are_not_restarts(self, pack: PatternSet) -> None:
        """Many `Booting worker` lines at start-up open nothing."""
        records = startup(workers=tuple(range(10, 42)))
        assert [] == run(pack, records)

    def test_timeouts_fifteen_minutes_apart_are_not_a_loop(self, pack: PatternSet) -> None:
        """Deaths spread wider than the 5-minute window never add up to a loop."""
        records = startup()
        for n, pid in enumerate((10, 11, 12, 13)):
            records += timeout_death(15 * 60 * n + 5, pid)
        assert [] == opened(run(pack, records))

    def test_same_line_twice_counts_once(self, pack: PatternSet) -> None:
        """A death logged twice (two handlers on one stream) is one death."""
        records = startup() + timeout_death(10, 10) + timeout_death(10, 10) + timeout_death(11, 11)
        assert [] == opened(run(pack, records))

    def test_hup_reload_is_not_a_crash_loop(self, pack: PatternSet) -> None:
        """Workers exiting and booting after `Handling signal: hup` are a reload."""
        records = startup()
        records.append((100, gunicorn(100, 1, "INFO", "Handling signal: hup")))
        for n, pid in enumerate((10, 11, 12, 13)):
            records.append((101, gunicorn(101, pid, "INFO", f"Worker exiting (pid: {pid})")))
            records.append(boot(101, 20 + n))
        assert [] == opened(run(pack, records))

    def test_ttou_and_shutdown_are_not_a_crash_loop(self, pack: PatternSet) -> None:
        """TTOU shrinks the pool and TERM stops it: workers exit on purpose."""
        records = startup()
        records.append((100, gunicorn(100, 1, "INFO", "Handling signal: ttou")))
        records.append((100, gunicorn(100, 13, "INFO", "Worker exiting (pid: 13)")))
        records.append((200, gunicorn(200, 1, "INFO", "Handling signal: term")))
        for pid in (10, 11, 12):
            records.append((201, gunicorn(201, pid, "INFO", f"Worker exiting (pid: {pid})")))
        records.append((202, gunicorn(202, 1, "INFO", "Shutting down: Master")))
        assert [] == opened(run(pack, records))

    def test_kills_long_after_a_reload_count_again(self, pack: PatternSet) -> None:
        """The reload grace ends: timeouts two minutes later are a crash loop again."""
        records = startup()
        records.append((100, gunicorn(100, 1, "INFO", "Handling signal: hup")))
        records += timeout_death(220, 10) + timeout_death(221, 11) + timeout_death(222, 12)
        assert 1 == len(opened(run(pack, records), "crash_loop"))

    def test_pods_are_separate_groups(self, pack: PatternSet) -> None:
        """Two deaths in each of two pods are not one loop of four."""
        first = run(pack, timeout_death(10, 10) + timeout_death(11, 11), group="bento-0")
        second = run(pack, timeout_death(12, 12) + timeout_death(13, 13), group="bento-1")
        assert [] == opened(first + second)


class TestLifecycle:
    def test_resolves_after_quiet_period(self, pack: PatternSet) -> None:
        """An incident resolves `resolve_after` (5 min) after its last death, in event time."""
        records = startup() + timeout_death(10, 10) + timeout_death(11, 11) + timeout_death(12, 12)
        correlator = Correlator(pack.rules)
        events = []
        for number, (at, text) in enumerate(records, 1):
            line = Line(source="t", number=number, text=text, ts=T0 + at)
            if (match := pack.match(line)) is not None:
                events += correlator.observe(match)
        assert [] == correlator.advance(T0 + 12 + 299.999)
        [resolved] = correlator.advance(T0 + 12 + 300)  # on the dot, not a moment later
        assert IncidentState.RESOLVED == resolved.state
        assert T0 + 12 + 300 == resolved.at
        assert events[0].incident.id == resolved.incident.id

    def test_resolves_while_rejections_trickle_below_the_threshold(self, pack: PatternSet) -> None:
        """An overload resolves once the rule stops holding, even if a few 503s go on (1 %)."""
        records = [(n, access(n, "/predict", 503 if n % 2 else 200)) for n in range(20)]
        records += [
            (20 + n, access(20 + n, "/predict", 503 if n % 100 == 0 else 200)) for n in range(900)
        ]
        events = [e for e in run(pack, records) if e.incident.kind == "overload"]
        assert IncidentState.RESOLVED == events[-1].state
        assert events[-1].at < T0 + 20 + 900  # during the trickle, not never

    def test_updated_when_count_doubles(self, pack: PatternSet) -> None:
        """Opened at 3 deaths, updated at 6, not at 4 or 5."""
        records = startup(workers=tuple(range(10, 16)))
        for n, pid in enumerate(range(10, 16)):
            records += timeout_death(10 + n, pid)
        events = [e for e in run(pack, records) if e.incident.kind == "crash_loop"]
        assert [(IncidentState.OPENED, 3), (IncidentState.UPDATED, 6)] == [
            (e.state, e.incident.count) for e in events
        ]

    def test_id_is_stable_across_runs(self, pack: PatternSet) -> None:
        """The same input gives the same incident id."""
        records = startup() + timeout_death(10, 10) + timeout_death(11, 11) + timeout_death(12, 12)
        assert run(pack, records)[0].incident.id == run(pack, records)[0].incident.id

    def test_evidence_quotes_the_lines(self, pack: PatternSet) -> None:
        """Evidence carries the source, line number and text of the counted deaths."""
        records = startup() + timeout_death(10, 10) + timeout_death(11, 11) + timeout_death(12, 12)
        [event] = opened(run(pack, records))
        first = event.incident.evidence[0]
        assert ("test.log", 6) == (first.source, first.line)
        assert "WORKER TIMEOUT (pid:10)" in first.text


class TestOverload:
    def test_large_share_of_429_503_504_is_overload(self, pack: PatternSet) -> None:
        """Rejections that are >= 10 % of requests (and >= 5) in a minute are overload."""
        records = [(n * 0.5, access(n * 0.5, "/predict", 200)) for n in range(40)]
        records += [
            (20 + n * 0.2, access(20 + n * 0.2, "/predict", (429, 503, 504)[n % 3]))
            for n in range(9)
        ]
        [event] = opened(run(pack, records), "overload")
        assert Severity.WARNING == event.incident.severity
        assert event.incident.remediation  # what to change comes with it

    def test_majority_rejected_is_critical(self, pack: PatternSet) -> None:
        """At >= 50 % rejected the overload is critical."""
        records = [(n, access(n, "/predict", 503 if n % 4 else 200)) for n in range(20)]
        [event] = opened(run(pack, records), "overload")
        assert Severity.CRITICAL == event.incident.severity
        assert "http_503" == event.incident.cause

    def test_rejections_leave_the_window_with_their_minute(self, pack: PatternSet) -> None:
        """A burst of 503s ages out: once it has, requests alone open no second overload."""
        burst = [(n * 0.1, access(n * 0.1, "/predict", 503)) for n in range(6)]
        calm = [(400 + n * 0.5, access(400 + n * 0.5, "/predict", 200)) for n in range(20)]
        events = run(pack, burst + calm)
        assert 1 == len(opened(events, "overload"))
        resolved = [e for e in events if e.state is IncidentState.RESOLVED]
        assert 1 == len(resolved)

    def test_few_rejections_among_many_requests_are_not_overload(self, pack: PatternSet) -> None:
        """Six 503s among 200 requests (3 %) is below the 10 % floor."""
        records = [
            (n * 0.25, access(n * 0.25, "/predict", 503 if n % 33 == 0 else 200))
            for n in range(200)
        ]
        assert [] == opened(run(pack, records), "overload")

    def test_probe_paths_are_not_counted(self, pack: PatternSet) -> None:
        """503s on /readyz, /livez, /healthz and /metrics are not overload."""
        probes = ("/readyz", "/livez", "/healthz", "/metrics")
        records = [(n, access(n, probes[n % 4], 503, "GET")) for n in range(40)]
        assert [] == opened(run(pack, records), "overload")

    def test_message_and_access_line_of_one_rejection_count_once(self, pack: PatternSet) -> None:
        """uvicorn logs each rejection twice (warning + 503 access line): 7 rejections, not 14."""
        records = [(0, 'INFO:     127.0.0.1:1 - "POST /predict HTTP/1.1" 200 OK')] * 4
        for _ in range(7):
            records.append((1, "WARNING:  Exceeded concurrency limit."))
            records.append(
                (1, 'INFO:     127.0.0.1:2 - "POST /predict HTTP/1.1" 503 Service Unavailable')
            )
        correlator = Correlator(pack.rules)
        for number, (at, text) in enumerate(records, 1):
            match = pack.match(Line(source="t", number=number, text=text, ts=T0 + at))
            if match is not None:
                correlator.observe(match)
        [incident] = correlator.open_incidents()
        assert (7, "limit_concurrency") == (incident.count, incident.cause)

    def test_uvicorn_concurrency_messages_count_without_access_log(self, pack: PatternSet) -> None:
        """`Exceeded concurrency limit.` alone (no access log) is overload."""
        records = [(n * 0.1, "WARNING:  Exceeded concurrency limit.") for n in range(6)]
        [event] = opened(run(pack, records), "overload")
        assert "limit_concurrency" == event.incident.cause


class TestColdStart:
    def test_readyz_503_while_starting_is_cold_start_not_overload(self, pack: PatternSet) -> None:
        """503s on /readyz right after start-up are cold_start_unavailable (info)."""
        records = [(0, gunicorn(0, 1, "INFO", "Starting gunicorn 23.0.0"))]
        records += [(1 + n, access(1 + n, "/readyz", 503, "GET")) for n in range(10)]
        records += [(12, access(12, "/readyz", 200, "GET"))]
        events = run(pack, records)
        assert ["cold_start_unavailable"] == [e.incident.kind for e in opened(events)]
        assert Severity.INFO == opened(events)[0].incident.severity

    def test_503_after_the_service_answered_is_not_cold_start(self, pack: PatternSet) -> None:
        """Once the service has answered 2xx it has started: later 503s are not a cold start."""
        records = [(0, "INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)")]
        records += [(1, 'INFO:     127.0.0.1:36178 - "POST /predict HTTP/1.1" 200 OK')]
        records += [
            (2, 'INFO:     127.0.0.1:36226 - "POST /predict HTTP/1.1" 503 Service Unavailable')
        ] * 3
        assert [] == opened(run(pack, records), "cold_start_unavailable")

    def test_503_long_after_start_is_not_cold_start(self, pack: PatternSet) -> None:
        """The start-up grace is over after two minutes."""
        records = [(0, gunicorn(0, 1, "INFO", "Starting gunicorn 23.0.0"))]
        records += [(600, access(600, "/readyz", 503, "GET"))]
        assert [] == opened(run(pack, records))


class TestOtherKinds:
    def test_worker_failed_to_boot_is_critical_startup_failure(self, pack: PatternSet) -> None:
        """`Reason: Worker failed to boot.` opens a critical startup_failure at once."""
        records = [(0, gunicorn(0, 1, "INFO", "Reason: Worker failed to boot."))]
        [event] = opened(run(pack, records))
        assert ("startup_failure", Severity.CRITICAL) == (
            event.incident.kind,
            event.incident.severity,
        )

    def test_parse_failures_in_a_burst(self, pack: PatternSet) -> None:
        """Three truncated-upload tracebacks within five minutes are request_parse_failure."""
        text = '[2021-05-25 01:09:0{n},092] ERROR in app: Exception on /predict [POST]\nTraceback (most recent call last):\n  File "app.py", line 9, in predict\nValueError: unexpected end of stream'
        records = [(n, text.format(n=n)) for n in range(3)]
        [event] = opened(run(pack, records))
        assert "request_parse_failure" == event.incident.kind

    def test_error_burst_is_explained_by_a_crash_loop(self, pack: PatternSet) -> None:
        """502s while workers crash-loop belong to the crash loop, not a separate burst."""
        records = startup() + timeout_death(10, 10) + timeout_death(11, 11) + timeout_death(12, 12)
        records += [(13 + n, access(13 + n, "/predict", 502)) for n in range(6)]
        assert ["crash_loop"] == [e.incident.kind for e in opened(run(pack, records))]

    def test_error_burst_on_its_own(self, pack: PatternSet) -> None:
        """Five 500s in a minute with nothing else going on are an error_burst."""
        records = [(n, access(n, "/predict", 500)) for n in range(5)]
        assert ["error_burst"] == [e.incident.kind for e in opened(run(pack, records))]


class TestProperties:
    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.sampled_from(range(6)), min_size=5, max_size=40), st.booleans())
    def test_extra_ticks_do_not_change_incidents(
        self, pack: PatternSet, script: list[int], tick: bool
    ) -> None:
        """advance() between records (live mode's clock) changes no opened incident."""
        records = startup()
        for step, choice in enumerate(script):
            at = 10 + step * 7
            if choice < 3:
                records += timeout_death(at, 100 + step)
            elif choice == 3:
                records.append(boot(at, 200 + step))
            else:
                records.append((at, access(at, "/predict", 503 if choice == 4 else 200)))
        plain = [(e.state, e.incident.id, e.incident.severity) for e in run(pack, records)]
        ticked = [
            (e.state, e.incident.id, e.incident.severity) for e in run(pack, records, ticks=tick)
        ]
        assert plain == ticked


class TestContainerDeaths:
    MARKER = "[logscan] kubectl logs stream ended (exit 1)"

    def test_repeated_container_exits_are_a_crash_loop(self, pack: PatternSet) -> None:
        """Three ends of one container's log stream in five minutes: the container crash-loops."""
        records = [(60 * n, self.MARKER) for n in range(3)]
        [event] = opened(run(pack, records, group="bento-0"), "crash_loop")
        assert "container_exit" == event.incident.cause

    def test_a_shutdown_is_not_a_container_crash(self, pack: PatternSet) -> None:
        """Streams that end after gunicorn handled SIGTERM (a rollout) are not a crash loop."""
        records = []
        for n in range(3):
            records.append((120 * n, gunicorn(120 * n, 1, "INFO", "Handling signal: term")))
            records.append((120 * n + 2, self.MARKER))
        assert [] == opened(run(pack, records, group="bento-0"))


# Matches given by their parts, as `scan` gives them: requests of every kind the rules tell
# apart (plain, rejected, probes, server errors), service starts and worker deaths, mostly in
# one group and close together (so windows fill and rules hold), with times that go back now
# and then.
_SIGNAL = st.sampled_from(["request"] * 8 + ["service_start", "overloaded", "worker_death"])
_STATUS = st.sampled_from(["200", "200", "200", "201", "429", "503", "503", "504", "500"])
_PATH = st.sampled_from(["/predict", "/predict", "/predict", "/readyz", "/metrics"])
_STEP = st.sampled_from([0.0, 0.1, 0.5, 1.0, 1.0, 2.0, 30.0, 90.0, 200.0, -1.0, -70.0])


@st.composite
def _matches(draw: st.DrawFn) -> list[Match]:
    matches, ts = [], 1_700_000_000.0
    for number in range(draw(st.integers(min_value=0, max_value=250))):
        ts += draw(_STEP)
        signal = draw(_SIGNAL)
        fields: tuple[tuple[str, str], ...] = ()
        if signal == "request":
            fields = (("method", "POST"), ("path", draw(_PATH)), ("status", draw(_STATUS)))
        elif signal == "worker_death":
            fields = (("cause", "timeout"), ("pid", str(draw(st.integers(1, 6)))))
        elif signal == "overloaded":
            fields = draw(st.sampled_from([(), (("cause", "limit_concurrency"),)]))
        group = draw(st.sampled_from(["a", "a", "a", "b"]))
        line = Line(source="s", number=number, text=f"{signal} {fields}", ts=ts, group=group)
        matches.append(Match(signature=f"x.{signal}", signal=signal, fields=fields, line=line))
    return matches


# A user's ratio rule that a start suppresses for a while: quiet requests must honour it too.
_SUPPRESSED_RATIO = {
    "kind": "slow_start_overload", "type": "ratio", "description": "x",
    "numerator": [{"signals": ["request"], "where": {"status": ["503"]}}],
    "denominator": [{"signals": ["request"]}], "min_count": 2, "min_ratio": 0.05,
    "window": "30s", "unless": {"signals": ["service_start"], "within": "10s"},
    "severity": "warning", "resolve_after": "1m",
}  # fmt: skip


def _rules(pack: PatternSet, suppressed: bool) -> tuple[Rule, ...]:
    """The pack's rules, and with `suppressed` the user's ratio rule a start suppresses."""
    return (*pack.rules, parse_rule(_SUPPRESSED_RATIO, "t")) if suppressed else pack.rules


@settings(max_examples=500)
@given(_matches(), st.booleans())
def test_matches_given_by_their_parts_give_the_same_events(
    pack: PatternSet, matches: list[Match], suppressed: bool
) -> None:
    """observe_fields builds no Match for a quiet plan (most requests): same events."""
    whole, parts = Correlator(_rules(pack, suppressed)), Correlator(_rules(pack, suppressed))
    for match in matches:
        expected = whole.observe(match)
        got = parts.observe_fields(match.signature, match.signal, match.fields, match.line)
        assert expected == got
    assert whole.advance(float("inf")) == parts.advance(float("inf"))
