"""Write a synthetic, seeded log corpus for `make bench` (see docs/benchmarks.md).

    .venv/bin/python scripts/gen_corpus.py --lines 1000000 --seed 1 --out bench-out/1m.log

The corpus is what `kubectl logs --prefix --timestamps` prints for a namespace of model servers:
three gunicorn + Flask pods, one uvicorn API and two BentoML 1.x pods. Every line is framed
as `[pod/NAME/CONTAINER] RFC3339NANO <line>`; the lines inside copy the exact shapes of samples/
(gunicorn access and error log, Python logging, uvicorn, BentoML access log, tracebacks). Event
time advances at 200-2000 lines per second. Every ~150 k lines an episode is injected in one pod:
an overload burst, a crash loop or a (cold) restart, so the correlator and the overload ratio's
denominator do real work.

It is generated, not captured: use samples/ for real logs. The same seed gives a byte-identical
file (on the same Python version); output is streamed, so memory does not grow with --lines.
"""

from __future__ import annotations

import argparse
import calendar
import functools
import heapq
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TextIO

NS = 1_000_000_000
EPOCH_NS = calendar.timegm((2026, 11, 25, 0, 0, 0)) * NS
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

RATE_MIN, RATE_MEAN, RATE_MAX = 200.0, 700.0, 2000.0  # lines per second of event time
RATE_TICK_NS = 10 * NS  # the rate drifts every 10 s
FIRST_EPISODE, EPISODE_GAP = 20_000, (120_000, 180_000)  # in lines
EPISODES = ("overload", "crash_loop", "overload", "cold_start")
# Which pod (index in make_pods()) each kind's next episode hits, in turn: every server type
# gets each kind of episode it can have within the first 1 M lines.
ROTATION = {"overload": (3, 0, 4, 1, 5, 2), "crash_loop": (0, 1, 2), "cold_start": (1, 4, 3)}
WRITE_BATCH = 8192  # lines joined per write


@functools.lru_cache(maxsize=256)
def stamps(second: int) -> dict[str, str]:
    """The text forms of one second of event time (UTC), in each log format of the corpus."""
    t = time.gmtime(second)
    y, mo, d, h, mi, s = t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec
    return {
        "rfc": f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}",
        "clf": f"[{d:02d}/{MONTHS[mo - 1]}/{y}:{h:02d}:{mi:02d}:{s:02d} +0000]",
        "gunicorn": f"[{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d} +0000]",
        "pylog": f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}",
        "bento": f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}+0000",
    }


@dataclass(slots=True)
class Pod:
    """One pod's server and the state its lines depend on (pids, episodes under way)."""

    name: str
    container: str
    server: str  # "gunicorn" | "uvicorn" | "bentoml"
    weight: float  # share of the namespace's lines, before episodes
    workers: list[int]
    master: int = 1
    next_pid: int = 0
    overload: tuple[int, int, float] = (0, 0, 0.0)  # from, until (ns), share rejected
    cold_until: int = 0  # answering 503 until then (ns)
    calm_until: int = 0  # no graceful worker restarts until then (ns)
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        self.prefix = f"[pod/{self.name}/{self.container}] "
        self.next_pid = max(self.workers) + 1

    def spawn(self) -> int:
        """A fresh worker pid."""
        self.next_pid += self.next_pid % 3 + 1
        return self.next_pid


def make_pods() -> list[Pod]:
    """The namespace: gunicorn pods carry most lines, BentoML pods the longest ones."""
    bento = [
        Pod(f"bento-7d9f8b6c4-{s}", "bento", "gunicorn", 0.19, [7, 8, 9, 10])
        for s in ("x2k9p", "q8w4n", "m5t7r")
    ]
    api = [Pod("api-6b7c8d9f5-t2v8k", "api", "uvicorn", 0.31, [1])]
    summarizer = [
        Pod(f"summarizer-6c8b9f5d7-{s}", "summarizer", "bentoml", 0.02, [1])
        for s in ("p4k2w", "v9n3x")
    ]
    return bento + api + summarizer


TRACE_APP_ERROR = (
    "Traceback (most recent call last):",
    '  File "/app/service/cache.py", line 88, in refresh',
    '    meta = self.session.get(f"{self.registry}/models/{name}", timeout=2)',
    '  File "/usr/local/lib/python3.11/site-packages/requests/sessions.py", line 602, in get',
    '    return self.request("GET", url, **kwargs)',
    '  File "/usr/local/lib/python3.11/site-packages/requests/adapters.py", line 501, in send',
    "    raise ConnectionError(err, request=request)",
    "requests.exceptions.ConnectionError: ('Connection aborted.', "
    "ConnectionResetError(104, 'Connection reset by peer'))",
)
TRACE_VIEW_ERROR = (
    "Traceback (most recent call last):",
    '  File "/usr/local/lib/python3.11/site-packages/flask/app.py", line 1511, in wsgi_app',
    "    response = self.full_dispatch_request()",
    '  File "/usr/local/lib/python3.11/site-packages/flask/app.py", line 902, in dispatch_request',
    "    return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)",
    '  File "/app/service/api.py", line 41, in predict',
    '    features = [float(x) for x in payload["features"]]',
    "ValueError: could not convert string to float: 'NaN?'",
)
TRACE_TIMEOUT = (  # samples/kubectl/crash_loop.log: a sync worker aborted by the master
    "Traceback (most recent call last):",
    '  File "/usr/local/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 141, '
    "in handle",
    "    self.handle_request(listener, req, client, addr)",
    '  File "/usr/local/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 184, '
    "in handle_request",
    "    respiter = self.wsgi(environ, resp.start_response)",
    '  File "/app/service/api.py", line 44, in predict',
    "    scores = model.predict(batch)",
    '  File "/usr/local/lib/python3.11/site-packages/gunicorn/workers/base.py", line 200, '
    "in handle_abort",
    "    sys.exit(1)",
    "SystemExit: 1",
)


class Corpus:
    """An endless, seeded stream of framed lines in event-time order."""

    def __init__(self, seed: int, episode_gap: tuple[int, int] = EPISODE_GAP) -> None:
        self.rng = random.Random(seed)
        self.now = EPOCH_NS
        self.rate = RATE_MEAN
        self.next_tick = EPOCH_NS + RATE_TICK_NS
        self.pods = make_pods()
        self.cum_weights: list[float] = []
        self.script: list[tuple[int, int, Pod, str]] = []  # heap: (ns, seq, pod, text)
        self.seq = 0
        self.emitted = 0
        self.next_episode = min(FIRST_EPISODE, episode_gap[0])
        self.episode_gap = episode_gap
        self.episodes: list[str] = []
        self.stats: Counter[str] = Counter()
        self.reweigh()

    # --- the stream -----------------------------------------------------------------------

    def lines(self) -> Iterator[str]:
        """Every line, forever: background traffic with the episodes' scripted lines merged in."""
        while True:
            self.advance()
            while self.script and self.script[0][0] <= self.now:
                when, _, pod, text = heapq.heappop(self.script)
                yield self.frame(pod, when, text)
            pod = self.rng.choices(self.pods, cum_weights=self.cum_weights)[0]
            for text in BACKGROUND[pod.server](self, pod):
                yield self.frame(pod, self.now, text)

    def frame(self, pod: Pod, when: int, text: str) -> str:
        """One line in the `kubectl logs --prefix --timestamps` envelope."""
        self.emitted += 1
        second, nanos = divmod(when, NS)
        return f"{pod.prefix}{stamps(second)['rfc']}.{nanos:09d}Z {text}\n"

    def advance(self) -> None:
        """Move event time on by one line's gap; drift the rate; start a due episode."""
        self.now += max(1, int(self.rng.expovariate(self.rate) * NS))
        if self.now >= self.next_tick:
            self.next_tick += RATE_TICK_NS
            drift = 0.1 * (math.log(RATE_MEAN) - math.log(self.rate)) + self.rng.gauss(0, 0.15)
            self.rate = min(RATE_MAX, max(RATE_MIN, self.rate * math.exp(drift)))
            self.reweigh()
        if self.emitted >= self.next_episode:
            self.start_episode()

    def reweigh(self) -> None:
        """Each pod's share of lines now: x1.5 while overloaded, a tenth while starting."""
        total, self.cum_weights = 0.0, []
        for pod in self.pods:
            weight = pod.weight
            if pod.overload[0] <= self.now < pod.overload[1]:
                weight *= 1.5
            if self.now < pod.cold_until:
                weight *= 0.1
            total += weight
            self.cum_weights.append(total)

    def schedule(self, pod: Pod, when: int, texts: list[str], kind: str = "signature") -> None:
        """One record (a line, or a traceback's lines) that an episode writes at `when`."""
        self.stats[kind] += 1
        for text in texts:
            self.seq += 1
            heapq.heappush(self.script, (when, self.seq, pod, text))

    # --- pieces shared by the servers ---------------------------------------------------

    def ms(self, when: int | None = None) -> str:
        """The Python logging `asctime` of `when` (default now), milliseconds included."""
        second, nanos = divmod(self.now if when is None else when, NS)
        return f"{stamps(second)['pylog']},{nanos // 1_000_000:03d}"

    def client(self) -> str:
        """A cluster-internal client address."""
        return f"10.42.{self.rng.randrange(8)}.{self.rng.randrange(2, 250)}"

    def status(self, pod: Pod, rejections: tuple[int, ...]) -> int:
        """A request's status: rejected in an overload burst or a cold start, else mostly 200."""
        rng = self.rng
        start, until, share = pod.overload
        if self.now < pod.cold_until:
            code = 503
        elif start <= self.now < until and rng.random() < share:
            code = rng.choice(rejections)
        else:
            r = rng.random()
            if r >= 0.02:
                return 200
            if r < 0.00003:
                code = 500
            else:
                code = rng.choice((400, 404, 413, 422, 422)) if r >= 0.003 else rejections[0]
        self.stats["rejected" if code in (429, 503, 504) else "error_status"] += 1
        return code

    # --- episodes -------------------------------------------------------------------------

    def start_episode(self) -> None:
        """Inject the next episode of the rotation (EPISODES, ROTATION) into its pod."""
        kind = EPISODES[len(self.episodes) % len(EPISODES)]
        turn = sum(episode.startswith(kind) for episode in self.episodes)
        pod = self.pods[ROTATION[kind][turn % len(ROTATION[kind])]]
        self.episodes.append(f"{kind} in {pod.name} at {self.ms()}")
        EPISODE_STARTERS[kind](self, pod)
        self.next_episode = self.emitted + self.rng.randint(*self.episode_gap)
        self.reweigh()

    def overload(self, pod: Pod) -> None:
        """60-90 s in which 30-60 % of the pod's requests are refused (traffic x1.5)."""
        length = self.rng.randint(60, 90) * NS
        pod.overload = (self.now, self.now + length, self.rng.uniform(0.3, 0.6))

    def crash_loop(self, pod: Pod) -> None:
        """3-4 waves of workers timing out and being replaced, within 5 minutes."""
        start = self.now + 60 * NS  # clear of any graceful restart before it
        pod.calm_until = start + 6 * 60 * NS
        when = start
        for _ in range(self.rng.randint(3, 4)):
            for slot in self.rng.sample(range(len(pod.workers)), self.rng.randint(1, 2)):
                self.worker_timeout(pod, slot, when)
                when += self.rng.randint(1, 50) * 1_000_000
            when += self.rng.randint(15, 60) * NS

    def worker_timeout(self, pod: Pod, slot: int, when: int) -> None:
        """WORKER TIMEOUT, the aborted request's traceback, its 500, the replacement's boot."""
        old, new = pod.workers[slot], pod.spawn()
        pod.workers[slot] = new
        g, clf, ms = stamps(when // NS)["gunicorn"], stamps(when // NS)["clf"], 1_000_000
        self.schedule(pod, when, [f"{g} [{pod.master}] [CRITICAL] WORKER TIMEOUT (pid:{old})"])
        head = f"{g} [{old}] [ERROR] Error handling request POST /predict"
        self.schedule(pod, when + ms, [head, *TRACE_TIMEOUT])
        access = f'{self.client()} - - {clf} "POST /predict HTTP/1.1" 500 0 "-" "-"'
        self.schedule(pod, when + 2 * ms, [access], "error_status")
        self.schedule(pod, when + 3 * ms, [f"{g} [{old}] [INFO] Worker exiting (pid: {old})"])
        if self.rng.random() < 0.5:
            kill = f"Worker (pid:{old}) was sent SIGKILL! Perhaps out of memory?"
            self.schedule(pod, when + 4 * ms, [f"{g} [{pod.master}] [ERROR] {kill}"])
        self.schedule(pod, when + 9 * ms, [f"{g} [{new}] [INFO] Booting worker with pid: {new}"])

    def cold_start(self, pod: Pod) -> None:
        """A rolling restart: graceful shutdown, start-up lines, then 20-40 s of 503s."""
        start = self.now + 2 * NS
        pod.cold_until = start + self.rng.randint(20, 40) * NS
        pod.calm_until = pod.cold_until + 120 * NS
        pod.master = pod.spawn() if pod.server == "gunicorn" else pod.master
        pod.workers = [pod.spawn() for _ in pod.workers]
        for offset, text in enumerate(RESTART[pod.server](self, pod, start)):
            self.schedule(pod, start + offset * 3_000_000, [text])


# --- what each server writes when nothing special happens -----------------------------------


def gunicorn_lines(corpus: Corpus, pod: Pod) -> list[str]:
    """gunicorn's access log (CLF), the Flask app's Python logging, rarely a traceback."""
    rng, r = corpus.rng, corpus.rng.random()
    clf = stamps(corpus.now // NS)["clf"]
    if r < 0.32:
        code = corpus.status(pod, (503, 503, 504))
        size = 33 if code == 200 else 19
        ua = "python-requests/2.31.0" if r < 0.08 else "-"
        return [f'{corpus.client()} - - {clf} "POST /predict HTTP/1.1" {code} {size} "-" "{ua}"']
    if r < 0.36:
        path, code = rng.choice(("/readyz", "/livez")), 503 if corpus.now < pod.cold_until else 200
        return [f'10.42.0.1 - - {clf} "GET {path} HTTP/1.1" {code} 2 "-" "kube-probe/1.29"']
    if r < 0.365:
        return [f'10.42.7.3 - - {clf} "GET /metrics HTTP/1.1" 200 4113 "-" "Prometheus/2.48.1"']
    if r < 0.999:
        return [python_info(corpus)]
    return rare_gunicorn(corpus, pod)


def python_info(corpus: Corpus) -> str:
    """One app INFO line in the Python logging format `%(asctime)s %(levelname)s %(name)s: ...`."""
    rng, ts = corpus.rng, corpus.ms()
    r = rng.random()
    if r < 0.45:
        return f"{ts} INFO app.predict: {rng.randint(1, 16)} rows in {rng.uniform(2, 90):.1f} ms"
    if r < 0.7:
        return f"{ts} INFO app.features: {rng.randint(8, 64)} keys, hit={rng.random():.2f}"
    if r < 0.98:
        return f"{ts} INFO app.batch: queue depth {rng.randint(0, 12)}"
    return f"{ts} WARNING app.predict: slow request {rng.uniform(1, 4):.2f}s"


def rare_gunicorn(corpus: Corpus, pod: Pod) -> list[str]:
    """A logged exception (no signature), a view exception and its 500, or a graceful restart."""
    rng, ts, r = corpus.rng, corpus.ms(), corpus.rng.random()
    if r < 0.83:
        return [f"{ts} ERROR app.cache: refreshing model metadata failed", *TRACE_APP_ERROR]
    if r < 0.84:
        clf = stamps(corpus.now // NS)["clf"]
        access = f'{corpus.client()} - - {clf} "POST /predict HTTP/1.1" 500 265 "-" "-"'
        corpus.stats["signature"] += 1
        return [f"{ts} ERROR app: Exception on /predict [POST]", *TRACE_VIEW_ERROR, access]
    if corpus.now < pod.calm_until:
        return [python_info(corpus)]
    slot = rng.randrange(len(pod.workers))
    old, new = pod.workers[slot], pod.spawn()
    pod.workers[slot] = new
    g = stamps(corpus.now // NS)["gunicorn"]
    corpus.stats["signature"] += 3
    return [
        f"{g} [{old}] [INFO] Autorestarting worker after current request.",
        f"{g} [{old}] [INFO] Worker exiting (pid: {old})",
        f"{g} [{new}] [INFO] Booting worker with pid: {new}",
    ]


def uvicorn_lines(corpus: Corpus, pod: Pod) -> list[str]:
    """uvicorn's default access log; a refusal under --limit-concurrency logs a warning first."""
    if corpus.rng.random() < 0.1:
        method, path = "GET", "/livez"
        code = 503 if corpus.now < pod.cold_until else 200
    else:
        method, path = "POST", "/v1/predict"
        code = corpus.status(pod, (503,))
    phrase = "OK" if code == 200 else UVICORN_PHRASES.get(code, "Bad Request")
    peer = f"{corpus.client()}:{corpus.rng.randrange(32768, 61000)}"
    access = f'INFO:     {peer} - "{method} {path} HTTP/1.1" {code} {phrase}'
    if code == 503 and corpus.now >= pod.cold_until:
        corpus.stats["signature"] += 1
        return ["WARNING:  Exceeded concurrency limit.", access]
    return [access]


UVICORN_PHRASES = {
    400: "Bad Request",
    404: "Not Found",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def bentoml_lines(corpus: Corpus, pod: Pod) -> list[str]:
    """BentoML 1.x's access log (samples/bentoml/overload.log's shape) and its INFO lines."""
    rng, ts = corpus.rng, stamps(corpus.now // NS)["bento"]
    r = rng.random()
    head = f"{ts} [INFO] [entry_service:Summarization:1]"
    if r < 0.45:
        return [f"{head} summarized {rng.randint(40, 900)} tokens"]
    if r < 0.52:
        code = 503 if corpus.now < pod.cold_until else 200
        request = "method=GET,path=/readyz,type=text/plain,length=0"
    else:
        code = corpus.status(pod, (429, 429, 503))
        request = "method=POST,path=/summarize,type=application/json,length=29"
    return [bentoml_access(corpus, head, request, code)]


def bentoml_access(corpus: Corpus, head: str, request: str, code: int) -> str:
    """One line of bentoml/_internal/server/http/access.py."""
    rng = corpus.rng
    took = rng.uniform(150, 2100) if code == 200 else rng.uniform(0.2, 3.5)
    trace = f"trace={rng.getrandbits(128):032x},span={rng.getrandbits(64):016x}"
    return (
        f"{head} {corpus.client()}:{rng.randrange(32768, 61000)} (scheme=http,{request}) "
        f"(status={code},type=application/json,length={33 if code == 200 else 29}) "
        f"{took:.3f}ms ({trace},sampled=0,service.name=Summarization)"
    )


BACKGROUND: dict[str, Callable[[Corpus, Pod], list[str]]] = {
    "gunicorn": gunicorn_lines,
    "uvicorn": uvicorn_lines,
    "bentoml": bentoml_lines,
}


# --- how each server restarts (the cold-start episode) --------------------------------------


def gunicorn_restart(corpus: Corpus, pod: Pod, when: int) -> list[str]:
    """gunicorn's shutdown on TERM, then a new master booting its workers."""
    old = stamps((when - NS) // NS)["gunicorn"]
    g = stamps(when // NS)["gunicorn"]
    m = pod.master
    del corpus
    return [
        f"{old} [1] [INFO] Handling signal: term",
        f"{old} [1] [INFO] Shutting down: Master",
        f"{g} [{m}] [INFO] Starting gunicorn 23.0.0",
        f"{g} [{m}] [INFO] Listening at: http://0.0.0.0:8000 ({m})",
        f"{g} [{m}] [INFO] Using worker: sync",
        *(f"{g} [{w}] [INFO] Booting worker with pid: {w}" for w in pod.workers),
    ]


def uvicorn_restart(corpus: Corpus, pod: Pod, when: int) -> list[str]:
    """uvicorn stopping and starting again."""
    del corpus, when
    return [
        "INFO:     Shutting down",
        "INFO:     Finished server process [1]",
        f"INFO:     Started server process [{pod.workers[0]}]",
        "INFO:     Waiting for application startup.",
        "INFO:     Application startup complete.",
        "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
    ]


def bentoml_restart(corpus: Corpus, pod: Pod, when: int) -> list[str]:
    """`bentoml serve` starting again (samples/bentoml/cold_start.log)."""
    del corpus, pod
    b = stamps(when // NS)["bento"]
    return [
        f'{b} [INFO] [cli] Starting production HTTP BentoServer from "service:Summarization" '
        "listening on http://0.0.0.0:3000 (Press CTRL+C to quit)",
    ]


RESTART: dict[str, Callable[[Corpus, Pod, int], list[str]]] = {
    "gunicorn": gunicorn_restart,
    "uvicorn": uvicorn_restart,
    "bentoml": bentoml_restart,
}
EPISODE_STARTERS: dict[str, Callable[[Corpus, Pod], None]] = {
    "overload": Corpus.overload,
    "crash_loop": Corpus.crash_loop,
    "cold_start": Corpus.cold_start,
}


# --- command line ---------------------------------------------------------------------------


def write(corpus: Corpus, lines: int, out: TextIO) -> int:
    """Write the first `lines` lines of `corpus` to `out`, in batches; the bytes written."""
    size, stream = 0, corpus.lines()
    while lines > 0:
        batch = "".join(islice(stream, min(lines, WRITE_BATCH)))
        out.write(batch)
        size += len(batch)  # the corpus is ASCII
        lines -= WRITE_BATCH
    return size


def report(corpus: Corpus, lines: int, size: int) -> None:
    """What was written, on stderr: size, event-time span, anomalous share, episodes."""
    seconds = (corpus.now - EPOCH_NS) / NS
    unusual = corpus.stats["signature"] + corpus.stats["rejected"]
    print(
        f"gen_corpus: {lines} lines, {size / 1e6:.1f} MB ({size / max(lines, 1):.1f} B/line), "
        f"{seconds / 60:.1f} min of event time ({lines / max(seconds, 1e-9):.0f} lines/s), "
        f"{100 * unusual / max(lines, 1):.2f} % signature lines "
        f"({corpus.stats['rejected']} rejected requests)",
        file=sys.stderr,
    )
    for episode in corpus.episodes:
        print(f"gen_corpus:   {episode}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Parse the options and write the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines to write")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same bytes")
    parser.add_argument("--out", default="-", help="file to write, or - for stdout")
    parser.add_argument("--quiet", action="store_true", help="no summary on stderr")
    parser.add_argument(
        "--episode-every", type=int, default=0, metavar="LINES",
        help="inject an episode about every LINES lines (default: every 120-180 k lines)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    every = args.episode_every
    gap = (every, every * 3 // 2) if every else EPISODE_GAP
    corpus = Corpus(args.seed, gap)
    if args.out == "-":
        size = write(corpus, args.lines, sys.stdout)
    else:
        with open(args.out, "w", encoding="ascii", newline="\n", buffering=1 << 20) as out:
            size = write(corpus, args.lines, out)
    if not args.quiet:
        report(corpus, args.lines, size)


if __name__ == "__main__":
    main()
