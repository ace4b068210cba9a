"""The request lines' fast path (logscan/access.py) gives what the regex and the Line give.

The C lane matches the http.access and bentoml.access signatures' regexes in C and hands
their requests on as tuples; the Core weighs them without a Line. Each step is compared with the plain way: the
C matcher with the regex, the framer's tuples with the Lines of the framer without it, and
whole runs with the reference pipeline (tests/reference.py).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from logscan import core
from logscan.access import BENTO_REGEX, HTTP_REGEX, Access, Record, Request
from logscan.core import Core
from logscan.framing import Framer, Tally
from logscan.incident import OpenIncident
from logscan.model import Line, Severity
from logscan.patterns import PatternSet, Signature
from logscan.pipeline import Source
from logscan.track import Lane, Track
from logscan.window import RatioWindow
from tests.test_differential import compare

native = pytest.importorskip(
    "logscan._native", reason="logscan._native was not built (no C compiler)"
)


def _part(right: str, *wrong: str) -> st.SearchStrategy[str]:
    """Mostly the right text for a part of a request, else one of the wrong ones."""
    return st.one_of(st.just(right), st.just(right), st.just(right), st.sampled_from(wrong))


# http.access requests built part by part, each part mostly right and else just wrong: methods in and out
# of [A-Z], paths with "?" and quotes, versions, statuses of 2-4 digits, what follows a status
# (ª and é are Latin-1 word characters, ² a digit that \d does not take), and text around.
_http = st.tuples(
    _part('"', "", "'"),
    _part("GET", "", "get", "PÉT", "POST"),
    _part(" ", "", "  "),
    _part("/predict", "", "/a?b=1", "/a b", '/"x', "?q", "HTTP/1.1"),
    _part("", " junk", " HTTP/1.1", " HTTP/"),
    _part(" HTTP/", "HTTP/", " HTTP", " http/", " HTTP/1.1 HTTP/"),
    _part("1.1", "", "2", ".", "1.a", "²"),
    _part('"', "", '""', "' "),
    _part(" ", "", "  "),
    _part("200", "", "503", "42", "2000", "2²0"),
    _part("", " OK", "x", "_", "ª", "é", "-", "\t", "²", " 1"),
).map("".join)
_around = st.text('" ?/.0129AHTPZaé²\xa0', max_size=6)
_http_texts = st.lists(_http | _around, max_size=4).map("".join)


def test_the_packs_turn_it_on(pack: PatternSet) -> None:
    access = pack.access
    assert access is not None
    patterns = {s.id: s.pattern.pattern for s in access.signatures}
    assert patterns == {"http.access": HTTP_REGEX, "bentoml.access": BENTO_REGEX}


def _kind(pack: PatternSet, signature_id: str) -> int:
    access = pack.access
    assert access is not None
    return [s.id for s in access.signatures].index(signature_id)


@given(_http_texts)
@settings(max_examples=2000)
@example('"GET HTTP/1.1" 200')  # the method's space is not the one before HTTP/
@example('"GET  HTTP/1.1" 200')  # an empty path
@example('"GET /a?b HTTP/1.1" 200')
@example('"GET /x HTTP/" 200')
@example('"get /x HTTP/1.1" 200')
@example('" /x HTTP/1.1" 200')
@example('"GET /x HTTP/1.1" 20x')
@example('"x" "GET /x HTTP/1.1" 200')  # the first quote fails, the next one matches
@example('"GET /x HTTP/1.1" 2000')
@example('"GET /x HTTP/1.1" 200ª')
@example('"GET /x HTTP/1.1" 200é')
@example('"GET /x HTTP/1.1" 200²')
@example('"GET /x HTTP/1.1" 42. ')
def test_the_c_matcher_finds_what_the_regex_finds(pack: PatternSet, text: str) -> None:
    _same_as_the_regex(pack, "http.access", text)


def _same_as_the_regex(pack: PatternSet, signature_id: str, text: str) -> None:
    access = pack.access
    assert access is not None
    kind = _kind(pack, signature_id)
    found = access.signatures[kind].pattern.search(text)
    expected = None if found is None else found.group(1, 2, 3)
    assert native.match_access(text, access.native[kind]) == expected


# BentoML's access lines, part by part in the same way: schemes with and without \w
# characters, methods, paths with "," and ")", what lies before ") (status=", statuses.
_bento = st.tuples(
    _part("(scheme=", "(scheme", "scheme=", "(Scheme="),
    _part("http", "", "h_2", "é", "ª", "h-t", "h t", "²"),
    _part(",method=", ",method", ",method=,method="),
    _part("POST", "", "post", "PÉT", "P)"),
    _part(",path=", ",path", "path="),
    _part("/summarize", "", "/a,b", "/a)b", "/x(scheme=http,method=GET,path=/"),
    _part(",type=text/plain; charset=utf-8,length=23", "", ",x)", "(", ")("),
    _part(") (status=", ")(status=", ") (status", ") ) (status="),
    _part("200", "", "20", "2000", "2²0", "20x"),
    _part(",type=text/plain) 12.5ms", "", ")", "ª"),
).map("".join)
_bento_texts = st.lists(_bento | _around, max_size=4).map("".join)


@given(_bento_texts)
@settings(max_examples=2000)
@example("(scheme=http,method=POST,path=/x,type=a,length=1) (status=200,type=b)")
@example("(scheme=http,method=POST,path=/x) (status=200")  # no fields after the path
@example("(scheme=,method=POST,path=/x) (status=200")  # \w+ needs one
@example("(scheme=http,method=POST,path=) (status=503")  # an empty path
@example("(scheme=x(scheme=http,method=GET,path=/) (status=200")  # the second start matches
@example("(scheme=http,method=GET,path=/a,b)c) (status=200")  # ")" after the first fails
@example("(scheme=é,method=GET,path=/) (status=200")  # é is a word character
@example("(scheme=http,method=GET,path=/) (status=2²0")
def test_the_bento_matcher_finds_what_the_regex_finds(pack: PatternSet, text: str) -> None:
    _same_as_the_regex(pack, "bentoml.access", text)


def test_a_changed_regex_or_an_earlier_signature_turns_it_off(pack: PatternSet) -> None:
    access = pack.access
    assert access is not None
    own, bento = (
        access.signatures[_kind(pack, name)] for name in ("http.access", "bentoml.access")
    )
    changed = dataclasses.replace(own, pattern=regex.compile(HTTP_REGEX + " OK"))
    others = tuple(s for s in pack.signatures if s is not own)
    left = PatternSet(signatures=(*others, changed), rules=()).access
    assert left is not None
    assert left.signatures == (bento,)  # the other one stays on
    earlier = dataclasses.replace(own, id="mine", pattern=regex.compile("HTTP/2"))
    packs = PatternSet(signatures=(earlier, own), rules=())
    assert packs.access is None
    later = PatternSet(signatures=(own, earlier), rules=())
    assert later.access is not None  # the access signature comes first: it wins anyway


def test_request_signatures_that_would_plan_apart_are_not_both_on(pack: PatternSet) -> None:
    """One lane serves every request signature: only those with the first one's signal and
    fields join it."""
    access = pack.access
    assert access is not None
    own, bento = (
        access.signatures[_kind(pack, name)] for name in ("http.access", "bentoml.access")
    )
    apart = dataclasses.replace(bento, fields=(("cause", "x"),))
    found = PatternSet(signatures=(own, apart), rules=()).access
    assert found is not None
    assert found.signatures == (own,)


def _frame(
    pack: PatternSet, lines: list[str], access: Access | None, *, tally: bool = True
) -> list[Line]:
    framer = Framer(
        source="s", prefilter=pack.prefilter, tally=Tally() if tally else None, access=access
    )
    data = "".join(line + "\n" for line in lines).encode()
    return _as_lines(access, framer.feed(data, 0.0) + framer.close(0.0))


def _expanded(records: list[Record]) -> list[Line | Request]:
    """The records with each run of requests (native.Requests) as its request tuples."""
    out: list[Line | Request] = []
    for record in records:
        if isinstance(record, Line | tuple):
            out.append(record)
        else:
            out.extend(record)
    return out


def _as_lines(access: Access | None, records: list[Record]) -> list[Line]:
    """The framer's records, each request tuple as the Line it stands for (checked)."""
    made = []
    for record in _expanded(records):
        if isinstance(record, Line):
            made.append(record)
            continue
        assert access is not None
        source, number, ts, text, group, values, kind = record
        found = access.signatures[kind].pattern.search(text)
        assert found is not None, text
        assert found.group(1, 2, 3) == values, text
        line = Line(
            source=source, number=number, text=text, ts=ts, group=group,
            literals=access.literals[kind],
        )  # fmt: skip
        made.append(line)
    return made


def test_the_c_lane_hands_on_a_block_s_requests_as_one_run(pack: PatternSet) -> None:
    """Consecutive requests come as one run; a Line between them starts another. Each item
    is the request tuple, and a run is a sequence of them."""
    lines = [
        '[pod/a/c] 2026-11-25T00:00:01.5Z 1.2.3.4 - - [x] "GET /a HTTP/1.1" 200 1 "-" "-"',
        '[pod/b/c] 2026-11-25T00:00:02.5Z 1.2.3.4 - - [x] "GET /b HTTP/1.1" 503 1 "-" "-"',
        "[pod/a/c] 2026-11-25T00:00:03.5Z [CRITICAL] WORKER TIMEOUT (pid:12)",
        '[pod/b/c] 2026-11-25T00:00:04.5Z 1.2.3.4 - - [x] "GET /c HTTP/1.1" 200 1 "-" "-"',
        "[pod/a/c] 2026-11-25T00:00:05.5Z INFO done",
        "[pod/b/c] 2026-11-25T00:00:06.5Z INFO done",
    ]
    framer = Framer(source="s", prefilter=pack.prefilter, tally=Tally(), access=pack.access)
    records = framer.feed("".join(line + "\n" for line in lines).encode(), 0.0)
    kinds = [type(record).__name__ for record in records]
    assert kinds == ["Requests", "Line", "Requests"]
    first = records[0]
    assert isinstance(first, native.Requests)
    assert len(first) == 2
    assert [r[5] for r in first] == [("GET", "/a", "200"), ("GET", "/b", "503")]
    ts = datetime(2026, 11, 25, 0, 0, 2, 500000, tzinfo=UTC).timestamp()
    message = lines[1].split(" ", 2)[2]
    kind = _kind(pack, "http.access")
    assert first[1] == ("s", 2, ts, message, "b", ("GET", "/b", "503"), kind)
    assert list(first) == [first[0], first[1]]
    with pytest.raises(IndexError):
        first[2]


def test_a_run_holds_the_requests_of_one_block(pack: PatternSet) -> None:
    """A line above U+00FF cuts the block; the requests released in the block after it start
    a new run even though no record came out between (the wide line is held)."""
    request = '1.2.3.4 - - [x] "GET /{} HTTP/1.1" 200 1 "-" "-"'
    lines = [
        f"[pod/a/c] 2026-11-25T00:00:01.5Z {request.format('a')}",
        "[pod/a/c] 2026-11-25T00:00:02.5Z INFO one",
        "[pod/z/c] 2026-11-25T00:00:03.5Z INFO ✓",
        f"[pod/b/c] 2026-11-25T00:00:04.5Z {request.format('b')}",
        "[pod/b/c] 2026-11-25T00:00:05.5Z INFO two",
    ]
    framer = Framer(source="s", prefilter=pack.prefilter, tally=None, access=pack.access)
    records = framer.feed("".join(line + "\n" for line in lines).encode(), 0.0)
    assert [type(record).__name__ for record in records] == ["Requests", "Requests"]
    assert [r[3] for r in _expanded(records)] == [request.format("a"), request.format("b")]


_MESSAGES = [
    '10.0.0.1 - - [25/Nov/2026:00:00:00 +0000] "POST /predict HTTP/1.1" 200 33 "-" "-"',
    'INFO:     10.0.0.2:5000 - "GET /readyz HTTP/1.1" 503 Service Unavailable',
    'a "GET / HTTP/1.1" 2000 not a status',
    "plain HTTP/ with no request",
    "[CRITICAL] WORKER TIMEOUT (pid:12)",
    '[CRITICAL] WORKER TIMEOUT "GET / HTTP/1.1" 200',  # two literals: not the fast path
    "INFO app ready",
    "INFO ready ✓",  # above U+00FF: its line goes to Python, and the block is cut around it
    "[INFO] [entry_service:S:1] 10.0.0.3:1 (scheme=http,method=POST,path=/s,length=2) "
    "(status=200,length=3) 12.0ms (trace=1)",
    "(scheme=http,method=POST,path=/s) (status=503 WORKER TIMEOUT",  # two literals
    "(scheme=http,method=POST) (status=200",  # the literal, no match
    "Traceback (most recent call last):",
    '  File "/app/x.py", line 3, in f',
]
_lines = st.lists(
    st.builds(
        lambda pod, second, message: f"[pod/{pod}/c] 2026-11-25T00:00:{second:02d}.5Z {message}",
        st.sampled_from(["a", "b", ""]),
        st.integers(0, 59),
        st.sampled_from(_MESSAGES),
    ),
    max_size=40,
)


@given(_lines)
def test_the_framer_hands_on_the_records_it_would_have_made(
    pack: PatternSet, lines: list[str]
) -> None:
    """Each request tuple stands for the Line the framer makes without access, in its place
    (literals included: Line equality leaves them out)."""
    for tally in (True, False):  # without a tally, records with no literal come out too
        fast = _frame(pack, lines, pack.access, tally=tally)
        plain = _frame(pack, lines, None, tally=tally)
        assert [(r, r.literals) for r in fast] == [(r, r.literals) for r in plain]


_STATUSES = ["200", "201", "204", "404", "429", "500", "503", "503", "504"]
_PATHS = ["/predict", "/predict", "/readyz", "/v1/predict?x=1"]


def _gap(roll: int) -> float:
    """Mostly dense requests; now and then a gap past the 60 s window or the 2 min resolution."""
    return 130.0 if roll >= 98 else 70.0 if roll == 97 else 1.5 if roll >= 90 else 0.1


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["api-1", "api-2", ""]),  # "": no pod, the source is the group
            st.integers(0, 99),
            st.sampled_from(_STATUSES),
            st.sampled_from(_PATHS),
        ),
        min_size=60,
        max_size=150,
    )
)
@settings(max_examples=200, deadline=None)
def test_requests_weigh_as_lines_do(
    pack: PatternSet, requests: list[tuple[str, int, str, str]]
) -> None:
    """Runs of requests (rejections dense enough to open, update and resolve overloads, and
    starts for cold starts) give the reference pipeline's events, counts and summary."""
    lines = []
    second = 0.0
    for pod, roll, status, path in requests:
        second += _gap(roll)
        stamp = f"2026-11-25T00:{int(second) // 60 % 60:02d}:{second % 60:06.3f}Z"
        if roll in (50, 97):  # now and then the service starts (again)
            lines.append(f"[pod/{pod}/c] {stamp} INFO:     Uvicorn running on http://0.0.0.0:80")
        message = (
            f'INFO:     10.0.0.1:1 - "POST {path} HTTP/1.1" {status} X'
            if roll % 3
            else f"[INFO] [api:S:1] 10.0.0.1:1 (scheme=http,method=POST,path={path},length=2) "
            f"(status={status},length=3) 1.5ms"
        )
        lines.append(f"[pod/{pod}/c] {stamp} {message}")
    data = "".join(line + "\n" for line in lines).encode()
    compare(pack, [Source(name="s", chunks=[data])])
    # Record by record: the same events at the same record, and event time moves alike.
    framer = Framer(source="s", prefilter=pack.prefilter, tally=Tally(), access=pack.access)
    records = framer.feed(data, 0.0) + framer.close(0.0)
    fast, plain, whole = Core(pack), Core(pack), Core(pack)
    expected = []
    each = _expanded(records)  # request tuples, through weigh's list path
    for record, line in zip(each, _as_lines(pack.access, records), strict=True):
        events = plain.process(line)
        assert fast.process(record) == events
        assert fast.watermark == plain.watermark
        expected += events
    assert fast.summary() == plain.summary()
    # At once, as scan hands them over: the C part counts runs of requests (_native_weigh.c),
    # as the C lane made them (native.Requests).
    assert whole.process_all(records) == expected
    assert whole.summary() == plain.summary()
    assert whole.watermark == plain.watermark
    assert _windows(whole) == _windows(plain) == _windows(fast)


def test_weigh_counts_the_rejections_of_an_open_overload(
    pack: PatternSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an overload is open, a run's rejections are counted in C with its quiet requests
    (one window, written back before each rejection): the reference's events and windows."""
    lines = []
    for n in range(3000):
        status = "503" if n % 3 == 0 else "200"
        stamp = f"2026-11-25T00:{n // 1200:02d}:{n / 20 % 60:06.3f}Z"
        lines.append(f'[pod/api-1/c] {stamp} INFO:     10.0.0.1:1 - "POST /p HTTP/1.1" {status} X')
    data = "".join(line + "\n" for line in lines).encode()
    framer = Framer(source="s", prefilter=pack.prefilter, tally=Tally(), access=pack.access)
    records = framer.feed(data, 0.0) + framer.close(0.0)
    whole, plain = Core(pack), Core(pack)
    expected = [event for line in _as_lines(pack.access, records) for event in plain.process(line)]
    taken = []
    python_request = Core._request
    monkeypatch.setattr(
        Core, "_request", lambda self, r: taken.append(r) or python_request(self, r)
    )
    assert whole.process_all(records) == expected
    assert (whole.summary(), _windows(whole)) == (plain.summary(), _windows(plain))
    assert ["opened"] == [event.state for event in expected if event.state == "opened"]
    rejections = [request for request in taken if request[5][2] == "503"]
    assert len(rejections) < 20  # of 1,000: the lane's first, and the opening and reports


def _windows(core_: Core) -> dict[object, object]:
    """What each ratio window of the Core's correlator holds."""
    tracks = core_._correlator._tracks.items()
    return {
        key: (list(t.window._buckets), t.window._denominator, t.window.totals())
        for key, t in tracks
        if isinstance(t.window, RatioWindow)
    }


def test_signature_fields_of_is_capture(pack: PatternSet) -> None:
    signature: Signature = next(s for s in pack.signatures if s.id == "http.access")
    text = '"GET /x HTTP/1.0" 404 -'
    assert signature.fields_of(("GET", "/x", "404")) == signature.capture(text)


def _window(pack: PatternSet, seconds: list[int], rejected: tuple[int, ...] = ()) -> RatioWindow:
    """The overload rule's window with a request in each of `seconds`, those at the indices
    `rejected` rejections (as RatioWindow.add counts them for its first selector)."""
    rule = next(rule for rule in pack.rules if rule.kind == "overload")
    window = RatioWindow(rule)
    for second in seconds:
        window.add_request(second + 0.5)
    for index in rejected:
        window._buckets[index][2] += 1
        window._views[0] += 1
        window._rejected = max(window._views)
    return window


def _count(pack: PatternSet, window: RatioWindow, incident: OpenIncident | None = None) -> object:
    """The overload rule's count entry in a lane, as Core gives it to weigh, for `window`
    (its track has `incident` open)."""
    rule = next(rule for rule in pack.rules if rule.kind == "overload")
    track = Track(rule, window, incident=incident)
    lane = core._weighable(Lane(ends=(), counts=((rule, track, window, False),)))
    assert lane is not None
    return lane[1][0]


def _request(ts: float, kind: int = 0) -> Request:
    return ("s", 1, ts, "...", "pod", ("GET", "/predict", "200"), kind)


@pytest.mark.parametrize(
    ("seconds", "rejected", "ts", "weighed", "newest"),
    [
        ([950, 1000], (), 1000.7, True, 1000),  # the newest bucket's second: counted there
        ([950, 1000], (), 1001.2, True, 1001),  # a new second: a new bucket, as Python's
        ([], (), 1000.7, True, 1000),  # the window's first bucket
        ([950, 1000], (), 999.5, False, 1000),  # an earlier second's bucket: Python finds it
        ([939, 940, 1001], (), 1001.5, True, 1001),  # two buckets leave the window
        ([940], (), 1001.5, True, 1001),  # the only bucket leaves, and a new one comes
        ([940, 1000], (), 1001.0, True, 1001),  # 940 leaves at 1001.0 exactly
        ([940, 1001], (0,), 1001.5, False, 1001),  # a bucket with a rejection leaves: Python's
        ([940, 1001], (1,), 1001.5, True, 1001),  # one leaves, and a rejection stays
        # one leaves, then the rule would hold: Python's, with the window as its prune leaves it
        ([940, 996, 997, 998, 999, 1000], (1, 2, 3, 4, 5), 1001.5, False, 1000),
        ([950, 1000], (), 900.0, True, 1000),  # too late for the window: in no bucket
    ],
)
def test_weigh_counts_only_what_needs_no_python(
    pack: PatternSet,
    *,
    seconds: list[int],
    rejected: tuple[int, ...],
    ts: float,
    weighed: bool,
    newest: int,
) -> None:
    """Event time is at 1000.9 (the oldest bucket still in the window) before the request
    (1001.5 moves it on); what weigh leaves is what RatioWindow.request leaves."""
    window, reference = _window(pack, seconds, rejected), _window(pack, seconds, rejected)
    lanes = {"pod": {("GET", "/predict", "200"): ((), (_count(pack, window),))}}
    end, watermark, counted, *_ = native.weigh([_request(ts)], 0, lanes, 1000.9, float("inf"))
    assert (end, counted) == ((1, 1) if weighed else (0, 0))
    assert watermark == (max(1000.9, ts) if weighed else 1000.9)
    if weighed and ts >= 1000.9 - 60:
        reference.request(ts, max(1000.9, ts))
    if not weighed:  # weigh may have pruned, as Python's request will
        for either in (window, reference):
            either.prune(max(1000.9, ts))
    assert (window.totals(), window._denominator) == (reference.totals(), reference._denominator)
    assert list(window._buckets) == list(reference._buckets)
    assert window._buckets[-1][0] == newest


@pytest.mark.parametrize(
    ("rejected", "severity", "seen", "weighed"),
    [
        (6, Severity.WARNING, 1000.2, True),  # the rule holds on: only last_seen moves
        (6, Severity.WARNING, 1000.8, True),  # a request before last_seen leaves it
        (6, Severity.CRITICAL, 1000.2, True),  # once critical, it stays so: last_seen moves
        (6, Severity.INFO, 1000.2, False),  # its severity rises: Python reports it
        (12, Severity.WARNING, 1000.2, False),  # half are rejected: critical, Python reports
        (12, Severity.CRITICAL, 1000.2, True),  # critical, and it was
    ],
)
def test_weigh_moves_an_open_overload_on(
    pack: PatternSet, rejected: int, severity: Severity, seen: float, *, weighed: bool
) -> None:
    """`rejected` of 22 requests in the window are rejections: the rule holds after a
    request, and its incident is open."""
    seconds = [990 + k for k in range(11)] * 2
    window = _window(pack, seconds, rejected=tuple(k % 11 for k in range(rejected)))
    rule = next(rule for rule in pack.rules if rule.kind == "overload")
    incident = OpenIncident(
        rule=rule, id="x", first_seen=990.0, last_seen=seen, severity=severity,
        count=rejected, reported_count=rejected,
    )  # fmt: skip
    lanes = {"pod": {("GET", "/predict", "200"): ((), (_count(pack, window, incident),))}}
    end, *_ = native.weigh([_request(1000.7)], 0, lanes, 1000.9, float("inf"))
    assert end == (1 if weighed else 0)
    assert incident.last_seen == (max(seen, 1000.7) if weighed else seen)
    assert window._denominator == (23 if weighed else 22)


@pytest.mark.parametrize(("count", "weighed"), [(6, False), (5, True)])
def test_weigh_leaves_a_doubled_count_to_python(
    pack: PatternSet, count: int, *, weighed: bool
) -> None:
    """An open incident whose count doubled since it was reported (3): Python reports it.
    One short of that, a request (which leaves the count as it is) only moves last_seen."""
    window = _window(pack, [990 + k for k in range(11)] * 2, rejected=(0, 2, 4, 6, 8, 10))
    rule = next(rule for rule in pack.rules if rule.kind == "overload")
    incident = OpenIncident(
        rule=rule, id="x", first_seen=990.0, last_seen=1000.2, severity=Severity.WARNING,
        count=count, reported_count=3,
    )  # fmt: skip
    lanes = {"pod": {("GET", "/predict", "200"): ((), (_count(pack, window, incident),))}}
    end, *_ = native.weigh([_request(1000.7)], 0, lanes, 1000.9, float("inf"))
    assert (end, incident.last_seen) == ((1, 1000.7) if weighed else (0, 1000.2))


def test_weigh_holds_a_window_for_a_run_and_writes_it_back(pack: PatternSet) -> None:
    """Many requests in one call, across seconds and buckets that leave, in more groups than
    it holds windows at once (16), counting in one or two: the windows are what
    RatioWindow.request leaves after each request."""
    pods = [f"pod-{k}" for k in range(13)]  # 19 windows
    windows = {
        pod: [_window(pack, [900, 930]) for _ in range(1 + k % 2)] for k, pod in enumerate(pods)
    }
    references = {pod: [_window(pack, [900, 930]) for _ in windows[pod]] for pod in pods}
    lanes = {
        pod: {("GET", "/predict", "200"): ((), tuple(_count(pack, w) for w in both))}
        for pod, both in windows.items()
    }
    times = [950.0 + 0.37 * k + (70.0 if k >= 300 else 0.0) for k in range(400)]  # a gap
    groups = [pods[k * 7 % len(pods)] for k in range(len(times))]
    kinds = [k % 3 // 2 for k in range(len(times))]  # a third of them BentoML's
    records = [
        (*_request(ts)[:4], pod, ("GET", "/predict", "200"), kind)
        for ts, pod, kind in zip(times, groups, kinds, strict=True)
    ]
    end, watermark, counted, _, _, by_kind = native.weigh(records, 0, lanes, 950.0, float("inf"))
    assert (end, counted, watermark) == (400, 400, times[-1])
    assert by_kind == (kinds.count(0), kinds.count(1), 0, 0)
    for ts, pod in zip(times, groups, strict=True):
        for reference in references[pod]:
            reference.request(ts, ts)
    for pod in pods:
        for window, reference in zip(windows[pod], references[pod], strict=True):
            assert list(window._buckets) == list(reference._buckets)
            assert (window._denominator, window.totals()) == (
                reference._denominator,
                reference.totals(),
            )


def test_a_path_seen_late_is_still_counted_in_c(
    pack: PatternSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The C part gets the lane of a request it has not seen however many requests it handed
    back to Python before (each a minute apart: a bucket leaves the window every time)."""
    counted = []

    def spy(*args: object) -> tuple[int, float, int, float, float]:
        found = native.weigh(*args)
        counted.append(found[2])
        return found

    monkeypatch.setattr(core, "_weigh", spy)
    core_ = Core(pack)
    rejection = ("s", 1, 0.0, "...", "pod", ("GET", "/predict", "503"), 0)
    for minute in range(5000):  # each bucket that leaves has a rejection: Python prunes it
        core_.process(_request(1000.5 + 61 * minute))
        core_.process((*rejection[:2], 1000.7 + 61 * minute, *rejection[3:]))
    assert [0] * 5000 == counted[0::2]  # every quiet one went to Python
    late = ("s", 1, 400_000.5, "...", "pod", ("GET", "/late", "200"), 0)
    core_.process(late)  # Python: a new bucket's prune, and the lane made for it
    core_.process((*late[:2], 400_000.7, *late[3:]))
    assert counted[-1] == 1


def test_weigh_leaves_a_lane_with_more_ratio_rules_than_it_takes_to_python(
    pack: PatternSet,
) -> None:
    """A pack may have any number of ratio rules on requests; past the C part's limit (8)
    the request goes to Python, not to an error."""
    count = _count(pack, _window(pack, [1000]))
    lanes = {"pod": {("GET", "/predict", "200"): ((), (count,) * 9)}}
    end, _, counted, *_ = native.weigh([_request(1000.7)], 0, lanes, 1000.9, float("inf"))
    assert (end, counted) == (0, 0)
