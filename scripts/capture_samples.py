#!/usr/bin/env python3
"""Capture real model-server logs into samples/.

Every scenario installs the real server from PyPI into a throwaway virtualenv (under the work
directory, default $TMPDIR/logscan-capture; nothing is added to the project's dependencies), runs it
on 127.0.0.1 only, drives a bounded amount of traffic at it with the standard library (threads,
http.client, raw sockets), stops every process it started by its PID (also on error or Ctrl-C) and
writes what the server printed on stdout+stderr, byte for byte, into samples/<family>/<name>.log.

    python3 scripts/capture_samples.py                 # every scenario
    python3 scripts/capture_samples.py crash_loop uvicorn_overload
    python3 scripts/capture_samples.py --list

The kubectl and journald scenarios re-frame the gunicorn crash-loop capture (they need the
crash_loop scenario to have run, in this run or an earlier one with the same work directory).
The helper apps live in scripts/capture/. See samples/README.md for what each sample shows.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
APPS = Path(__file__).resolve().parent / "capture"
HOST = "127.0.0.1"

# The exact versions the committed samples were made with. "Latest" when captured.
VENVS: dict[str, list[str]] = {
    "gunicorn": ["gunicorn==27.0.1", "flask==3.1.3", "werkzeug==3.1.9"],
    "gunicorn19": ["gunicorn==19.10.0", "flask==3.1.3", "werkzeug==3.1.9"],
    "gunicorn20": ["gunicorn==20.1.0", "flask==3.1.3", "werkzeug==3.1.9"],
    "werkzeug1": [
        "gunicorn==27.0.1",
        "flask==1.1.4",
        "werkzeug==1.0.1",
        "jinja2==2.11.3",
        "markupsafe==2.0.1",
        "itsdangerous==1.1.0",
        "click==7.1.2",
    ],
    "uvicorn": ["uvicorn==0.54.0", "starlette==1.10.0"],
    "bentoml": ["bentoml==1.4.40"],
}
REPORT_KEYS = [
    "WORKER TIMEOUT",
    "Worker exiting",
    "Booting worker",
    "SIGKILL",
    "SIGABRT",
    "exited with code",
    "terminated due to signal",
    "Exceeded concurrency limit",
    " 503",
    " 429",
    "status=429",
    " 502",
    " 504",
    "Exception on /predict",
    "Exception on /upload",
    "unexpected end of stream",
    "State.DATA",
    "Application startup failed",
    "upstream timed out",
    "upstream prematurely closed",
    "Worker failed to boot",
    "App failed to load",
    "was sent SIG",
    "Autorestarting",
    "Child process",
    "Connection refused",
    "Exception on",
    "ClientDisconnected",
    "process is overloaded",
]

T0 = time.monotonic()


def say(msg: str) -> None:
    print(f"[capture {time.monotonic() - T0:7.1f}s] {msg}", flush=True)


# --------------------------------------------------------------------------- virtualenvs


class Env:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.raw = workdir / "raw"
        self.raw.mkdir(parents=True, exist_ok=True)
        self.versions: dict[str, dict[str, str]] = {}

    def venv(self, name: str, install_timeout: float = 900) -> Path:
        """Create (once) the virtualenv `name` with its pinned packages; return its bin/ dir."""
        root = self.workdir / "venvs" / name
        stamp = root / ".capture-installed"
        pins = VENVS[name]
        if not (stamp.exists() and stamp.read_text() == "\n".join(pins)):
            say(f"venv {name}: creating {root} and installing {' '.join(pins)}")
            if root.exists():
                shutil.rmtree(root)
            subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
            subprocess.run(
                [str(root / "bin" / "python"), "-m", "pip", "install", "-q", *pins],
                check=True,
                timeout=install_timeout,
            )
            stamp.write_text("\n".join(pins))
        out = subprocess.run(
            [str(root / "bin" / "python"), "-m", "pip", "list", "--format=json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        self.versions[name] = {p["name"].lower(): p["version"] for p in json.loads(out)}
        return root / "bin"


# --------------------------------------------------------------------------- processes

RUNNING: dict[int, Server] = {}


class Server:
    """A process whose stdout and stderr share one pipe (as in a container); the script copies
    the bytes to `out` unchanged and records when each line arrived (for the re-framed copies)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        out: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        times: Path | None = None,
    ) -> None:
        self.name = name
        self.out = out
        self.times = times
        out.parent.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "TZ": "UTC", **(env or {})}
        rfd, wfd = os.pipe()
        say(f"start {name}: {' '.join(argv)}  > {out}")
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=wfd,
            stderr=wfd,
            env=full_env,
            cwd=cwd,
            start_new_session=True,  # its own process group: stop() can reach orphaned workers
        )
        os.close(wfd)
        self.pid = self.proc.pid
        RUNNING[self.pid] = self
        self.lines: list[tuple[int, int, bytes]] = []  # (realtime ns, monotonic ns, line)
        self._rfd = rfd
        self._reader = threading.Thread(target=self._read, name=f"read-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        partial = b""
        with open(self.out, "wb") as fh:
            while chunk := os.read(self._rfd, 65536):
                now, mono = time.time_ns(), time.monotonic_ns()
                fh.write(chunk)
                fh.flush()
                parts = (partial + chunk).split(b"\n")
                partial = parts.pop()
                self.lines.extend((now, mono, p) for p in parts)
            if partial:
                self.lines.append((time.time_ns(), time.monotonic_ns(), partial))
        os.close(self._rfd)

    def text(self) -> str:
        return b"\n".join(line for _, _, line in self.lines).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text():
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)
                return needle in self.text()
            time.sleep(0.05)
        return False

    def signal(self, sig: signal.Signals) -> None:
        say(f"{self.name}: kill -{sig.name.removeprefix('SIG')} {self.pid}")
        os.kill(self.pid, sig)

    def stop(self, timeout: float = 15.0, *, term: bool = True) -> int | None:
        """SIGTERM the PID we started (unless the scenario already signalled it), SIGKILL its
        process group if it does not go; wait for the pipe to drain. Returns the exit status."""
        if self.proc.poll() is None:
            if term:
                say(f"stop {self.name}: kill -TERM {self.pid}")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                say(f"stop {self.name}: still running after {timeout}s, SIGKILL group {self.pid}")
        self.kill_group()
        self.proc.wait(10)
        self._reader.join(10)
        RUNNING.pop(self.pid, None)
        if self.times is not None:
            self.times.write_text("".join(f"{ns} {mono}\n" for ns, mono, _ in self.lines))
        say(f"{self.name} exited with status {self.proc.returncode}; {len(self.lines)} lines")
        return self.proc.returncode

    def kill_group(self) -> None:
        # Workers left behind by a dead master (e.g. stuck in native code) share its group id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


def stop_all() -> None:
    for server in list(RUNNING.values()):
        try:
            server.stop(timeout=5)
        except Exception as exc:  # best effort on the error path
            say(f"stopping {server.name} failed: {exc!r}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_port(port: int, server: Server, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode} at start-up")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name}: port {port} not open after {timeout}s")


# --------------------------------------------------------------------------- traffic


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> str:
    """One HTTP request on a fresh connection; returns the status code or the exception name."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        return str(resp.status)
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        conn.close()


def predict(port: int, path: str = "/predict", timeout: float = 20.0) -> str:
    body = json.dumps({"inputs": [[0.1, 0.2, 0.3]]}).encode()
    headers = {"Content-Type": "application/json"}
    return request(port, "POST", path, body=body, headers=headers, timeout=timeout)


class Load:
    """Bounded client threads; each calls `fn` until its deadline or max_requests."""

    def __init__(self) -> None:
        self.results: collections.Counter[str] = collections.Counter()
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def add(
        self,
        label: str,
        fn: Callable[[], str],
        *,
        seconds: float,
        n: int = 1,
        max_requests: int = 1000,
        pause: float = 0.0,
    ) -> None:
        deadline = time.monotonic() + seconds

        def run() -> None:
            for _ in range(max_requests):
                if time.monotonic() >= deadline:
                    return
                res = fn()
                with self.lock:
                    self.results[f"{label}:{res}"] += 1
                if pause:
                    time.sleep(pause)

        for i in range(n):
            t = threading.Thread(target=run, name=f"{label}-{i}", daemon=True)
            t.start()
            self.threads.append(t)

    def join(self, timeout: float = 60) -> collections.Counter[str]:
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        say(f"client results: {dict(sorted(self.results.items()))}")
        return self.results


def burst(n: int, fn: Callable[[], str]) -> collections.Counter[str]:
    """n concurrent one-shot requests."""
    results: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def one() -> None:
        r = fn()
        with lock:
            results[r] += 1

    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    say(f"burst of {n}: {dict(results)}")
    return results


def native_iters(seconds: float) -> int:
    """pbkdf2 iterations that take about `seconds` of CPU here (one uninterruptible C call)."""
    n = 200_000
    t = time.perf_counter()
    hashlib.pbkdf2_hmac("sha256", b"w", b"s", n)
    return int(n * seconds / max(time.perf_counter() - t, 1e-3))


# --------------------------------------------------------------------------- scenarios


def gunicorn_argv(bin_dir: Path, port: int, *extra: str) -> list[str]:
    return [
        str(bin_dir / "gunicorn"),
        "--bind",
        f"{HOST}:{port}",
        "--access-logfile",
        "-",
        "--chdir",
        str(APPS),
        *extra,
        "flask_app:app",
    ]


def crash_loop_traffic(port: int, seconds: float) -> Load:
    load = Load()
    load.add("sleep", lambda: predict(port, "/predict?mode=sleep", 15), seconds=seconds, n=2)
    load.add("native", lambda: predict(port, "/predict?mode=native", 15), seconds=seconds, n=2)
    load.add("health", lambda: request(port, "GET", "/health", timeout=5), seconds=seconds, pause=1)
    return load


def scenario_crash_loop(env: Env) -> None:
    """Two gunicorn masters (two "pods"), sync workers, timeout 2 s, /predict takes 10 s."""
    bin_dir = env.venv("gunicorn")
    app_env = {"CAPTURE_PREDICT_SLEEP": "10", "CAPTURE_NATIVE_ITERS": str(native_iters(6))}
    pods = {
        "a": SAMPLES / "gunicorn" / "crash_loop.log",
        "b": env.raw / "crash_loop_pod_b.log",
    }
    servers: dict[str, tuple[Server, int]] = {}
    for pod, out in pods.items():
        port = free_port()
        argv = gunicorn_argv(
            bin_dir, port, "--workers", "2", "--timeout", "2", "--graceful-timeout", "3"
        )
        times = env.raw / f"crash_loop_pod_{pod}.times"
        # each "pod" has its own $HOME, so its control socket (~/.gunicorn/gunicorn.ctl) too
        home = env.workdir / "home" / f"pod-{pod}"
        home.mkdir(parents=True, exist_ok=True)
        pod_env = {**app_env, "HOME": str(home)}
        servers[pod] = (Server(f"gunicorn-{pod}", argv, out, env=pod_env, times=times), port)
    for server, port in servers.values():
        wait_port(port, server)
    say("healthy traffic for 4 s (GET /health)")
    warm = Load()
    for _, port in servers.values():
        warm.add("health", lambda p=port: request(p, "GET", "/health"), seconds=4, pause=0.25)
    warm.join()
    say("slow /predict traffic for 30 s: 2 clients time.sleep(10), 2 clients 6 s native call")
    loads = [crash_loop_traffic(port, 30) for _, port in servers.values()]
    for load in loads:
        load.join(60)
    for server, _ in servers.values():
        server.stop()


def scenario_graceful(env: Env) -> None:
    """Healthy traffic, then HUP (reload), TTIN, TTOU and TERM: no crash in here."""
    bin_dir = env.venv("gunicorn")
    port = free_port()
    argv = gunicorn_argv(bin_dir, port, "--workers", "2", "--timeout", "30")
    server = Server("gunicorn", argv, SAMPLES / "gunicorn" / "graceful.log")
    wait_port(port, server)
    load = Load()
    load.add("predict", lambda: predict(port), seconds=15, n=2, pause=0.5)
    load.add("health", lambda: request(port, "GET", "/health"), seconds=15, pause=1)
    for sig, wait in ((None, 3), (signal.SIGHUP, 4), (signal.SIGTTIN, 4), (signal.SIGTTOU, 4)):
        if sig is not None:
            server.signal(sig)
        time.sleep(wait)
    load.join()
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def old_gunicorn(env: Env, venv_name: str, out: Path) -> None:
    """The crash loop (shorter) on an old gunicorn, for its older message formats."""
    app_env = {"CAPTURE_PREDICT_SLEEP": "10", "CAPTURE_NATIVE_ITERS": str(native_iters(6))}
    bin_dir = env.venv(venv_name)
    port = free_port()
    argv = gunicorn_argv(
        bin_dir, port, "--workers", "2", "--timeout", "2", "--graceful-timeout", "3"
    )
    server = Server(venv_name, argv, out, env=app_env)
    wait_port(port, server, timeout=20)
    if not server.wait_for("Booting worker", 10):
        server.stop()
        raise RuntimeError(f"{venv_name}: no worker booted; output:\n{server.text()}")
    warm = Load()
    warm.add("health", lambda: request(port, "GET", "/health"), seconds=3, pause=0.25)
    warm.join()
    crash_loop_traffic(port, 20).join(60)
    server.stop()


def scenario_gunicorn19(env: Env) -> None:
    """Crash loop on gunicorn 19.10 (no signal/exit-code lines at all)."""
    old_gunicorn(env, "gunicorn19", SAMPLES / "gunicorn" / "gunicorn19_timeout.log")


def scenario_gunicorn20(env: Env) -> None:
    """Crash loop on gunicorn 20.1 ("Worker with pid N was terminated due to signal 9")."""
    old_gunicorn(env, "gunicorn20", SAMPLES / "gunicorn" / "gunicorn20_timeout.log")


def scenario_uvicorn_overload(env: Env) -> None:
    """uvicorn --limit-concurrency 4, waves of 14 concurrent 1 s requests: 503s."""
    bin_dir = env.venv("uvicorn")
    port = free_port()
    argv = [
        str(bin_dir / "uvicorn"),
        "asgi_app:app",
        "--app-dir",
        str(APPS),
        "--host",
        HOST,
        "--port",
        str(port),
        "--limit-concurrency",
        "4",
        "--access-log",
    ]
    server = Server("uvicorn", argv, SAMPLES / "uvicorn" / "overload.log")
    wait_port(port, server)
    say("3 sequential successful /predict")
    for _ in range(3):
        say(f"  -> {predict(port)}")
    for wave in range(3):
        say(f"wave {wave + 1}: 14 concurrent /predict")
        burst(14, lambda: predict(port))
        say(f"  after the wave: GET /health -> {request(port, 'GET', '/health')}")
        time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def scenario_uvicorn_startup(env: Env) -> None:
    """uvicorn --lifespan on, the app's lifespan start-up raises: "Application startup failed"."""
    bin_dir = env.venv("uvicorn")
    port = free_port()
    argv = [
        str(bin_dir / "uvicorn"),
        "asgi_startup_fail:app",
        "--app-dir",
        str(APPS),
        "--host",
        HOST,
        "--port",
        str(port),
        "--lifespan",
        "on",
    ]
    server = Server("uvicorn", argv, SAMPLES / "uvicorn" / "startup_failure.log")
    try:
        server.proc.wait(30)
    except subprocess.TimeoutExpired:
        say("uvicorn did not exit by itself")
    server.stop()


def bentoml_argv(bin_dir: Path, service: str, port: int) -> list[str]:
    return [
        str(bin_dir / "bentoml"),
        "serve",
        f"bento_service:{service}",
        "--working-dir",
        str(APPS),
        "--host",
        HOST,
        "--port",
        str(port),
    ]


def bentoml_env(env: Env) -> dict[str, str]:
    return {
        "BENTOML_HOME": str(env.workdir / "bentoml-home"),
        "BENTOML_DO_NOT_TRACK": "True",
        "BENTOML_DISABLE_GPU_ALLOCATION": "True",
    }


def scenario_bentoml_overload(env: Env) -> None:
    """bentoml serve, traffic max_concurrency 2, waves of 12 concurrent 2 s requests: 429s."""
    bin_dir = env.venv("bentoml", install_timeout=600)
    port = free_port()
    server = Server(
        "bentoml",
        bentoml_argv(bin_dir, "Overload", port),
        SAMPLES / "bentoml" / "overload.log",
        env=bentoml_env(env),
    )
    wait_port(port, server, timeout=120)
    end = time.monotonic() + 60
    while time.monotonic() < end and request(port, "GET", "/readyz", timeout=2) != "200":
        time.sleep(0.5)
    say("3 sequential successful /predict")
    for _ in range(3):
        say(f"  -> {predict(port)}")
    for wave in range(3):
        say(f"wave {wave + 1}: 12 concurrent /predict")
        burst(12, lambda: predict(port))
        time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(timeout=30, term=False)


def scenario_bentoml_cold_start(env: Env) -> None:
    """bentoml serve, __init__ takes 5 s, GET /readyz polled every 0.2 s from process start."""
    bin_dir = env.venv("bentoml", install_timeout=600)
    port = free_port()
    server = Server(
        "bentoml",
        bentoml_argv(bin_dir, "ColdStart", port),
        SAMPLES / "bentoml" / "cold_start.log",
        env=bentoml_env(env),
    )
    say("polling GET /readyz every 0.2 s from the moment the process started")
    polls: collections.Counter[str] = collections.Counter()
    end = time.monotonic() + 90
    ready = False
    while time.monotonic() < end:
        res = request(port, "GET", "/readyz", timeout=2)
        polls[res] += 1
        if res == "200":
            ready = True
            break
        if server.proc.poll() is not None:
            break
        if polls["503"] and polls["503"] % 5 == 0:
            say(f"  /predict while not ready -> {predict(port, timeout=10)}")
        time.sleep(0.2)
    say(f"readyz polls: {dict(polls)}")
    if ready:
        for _ in range(2):
            say(f"  /predict -> {predict(port)}")
        for _ in range(2):
            say(f"  /readyz -> {request(port, 'GET', '/readyz')}")
    server.signal(signal.SIGTERM)
    server.stop(timeout=30, term=False)


def multipart(content: bytes, boundary: str = "capture0boundary") -> tuple[bytes, str]:
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="image.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def upload(port: int, *, size: int, cut: str | None) -> str:
    """POST /predict (multipart). cut=None: complete upload; "shutdown": send half of the body then
    shutdown(SHUT_WR) and read the answer; "close": send half and close the socket at once;
    "short": a body that stops in the middle of the file, with a Content-Length that matches it
    (the multipart stream itself is truncated, the HTTP message is not)."""
    body, ctype = multipart(os.urandom(size))
    if cut == "short":
        body = body[: len(body) // 2]
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: capture-client/1.0\r\n"
        f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sent = body if cut in (None, "short") else body[: len(body) // 2]
    try:
        with socket.create_connection((HOST, port), timeout=10) as s:
            s.sendall(head + sent)
            if cut == "close":
                return "closed"
            if cut == "shutdown":
                s.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            return data.split(b" ", 2)[1].decode() if data else "empty"
    except OSError as exc:
        return type(exc).__name__


def flask_parse(env: Env, venv_name: str, out: Path, *, strict: bool) -> None:
    bin_dir = env.venv(venv_name)
    port = free_port()
    argv = gunicorn_argv(bin_dir, port, "--workers", "2", "--timeout", "30")
    app_env = {"CAPTURE_STRICT_FORMS": "1" if strict else "0"}
    server = Server(f"gunicorn+{venv_name}", argv, out, env=app_env)
    wait_port(port, server)
    server.wait_for("Booting worker", 10)
    time.sleep(0.5)
    plan = ["ok", "ok", "shutdown", "ok", "short", "close", "ok", "shutdown", "short", "ok"]
    plan += ["close", "shutdown", "short", "ok", "short", "ok"]
    for step in plan:
        res = upload(port, size=40_000, cut=None if step == "ok" else step)
        say(f"  upload {step:8} -> {res}")
        time.sleep(0.3)
    time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def scenario_flask_parse(env: Env) -> None:
    """Truncated multipart uploads, Flask 3 / werkzeug 3, parser errors not silenced."""
    flask_parse(env, "gunicorn", SAMPLES / "flask" / "parse_failure.log", strict=True)


def scenario_flask_parse_werkzeug1(env: Env) -> None:
    """Truncated multipart uploads, Flask 1.1 / werkzeug 1.0.1, parser errors not silenced."""
    out = SAMPLES / "flask" / "parse_failure_werkzeug1.log"
    flask_parse(env, "werkzeug1", out, strict=True)


def scenario_flask_parse_silent(env: Env) -> None:
    """Truncated multipart uploads to a stock Flask 3 app: werkzeug swallows the error -> 400."""
    flask_parse(env, "gunicorn", SAMPLES / "flask" / "parse_failure_silent.log", strict=False)


def scenario_nginx(env: Env) -> None:
    """nginx (Debian) in front of gunicorn whose workers time out: 502 and 504."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        say("nginx is not installed (apt-get install -y nginx): skipped")
        return
    bin_dir = env.venv("gunicorn")
    up_port, port = free_port(), free_port()
    prefix = env.workdir / "nginx"
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.mkdir(parents=True)
    conf = (APPS / "nginx.conf.in").read_text()
    for key, val in {
        "@PREFIX@": str(prefix),
        "@PORT@": str(port),
        "@UPSTREAM_PORT@": str(up_port),
    }.items():
        conf = conf.replace(key, val)
    (prefix / "nginx.conf").write_text(conf)
    argv = gunicorn_argv(bin_dir, up_port, "--workers", "2", "--timeout", "2")
    argv[-1:-1] = ["--graceful-timeout", "3"]
    upstream = Server(
        "gunicorn",
        argv,
        SAMPLES / "nginx" / "upstream_gunicorn.log",
        env={"CAPTURE_PREDICT_SLEEP": "10", "CAPTURE_NATIVE_ITERS": str(native_iters(6))},
    )
    wait_port(up_port, upstream)
    proxy = Server(
        "nginx",
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"],
        SAMPLES / "nginx" / "upstream.log",
    )
    try:
        wait_port(port, proxy)
        load = Load()
        load.add("health", lambda: request(port, "GET", "/health"), seconds=12, pause=0.5)
        # worker killed by SIGKILL mid-request -> 502; worker aborted (SIGABRT) -> gunicorn's 500;
        # nginx's own 1 s read timeout on /v2/ -> 504
        load.add("native", lambda: predict(port, "/predict?mode=native", 30), seconds=12)
        load.add("sleep", lambda: predict(port, "/predict?mode=sleep", 30), seconds=12)
        load.add("v2", lambda: predict(port, "/v2/predict", 30), seconds=12, pause=0.5)
        load.join(60)
    finally:
        proxy.signal(signal.SIGQUIT)  # nginx graceful shutdown
        proxy.stop(term=False)
        upstream.stop()


# --------------------------------------------------------------------------- more scenarios
# (signatures that had no real sample: boot/load failures, signal deaths, max-requests restarts,
# uvicorn's supervisor, nginx connection refused, ordinary request exceptions, ClientDisconnected,
# cold-start 503s, BentoML's batching overload)


def gunicorn_app_argv(bin_dir: Path, port: int, app: str, *extra: str) -> list[str]:
    argv = gunicorn_argv(bin_dir, port, *extra)
    argv[-1] = app
    return argv


def run_until_exit(server: Server, timeout: float = 30) -> None:
    try:
        server.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        say(f"{server.name} did not exit by itself within {timeout}s")
    server.stop()


def scenario_gunicorn_boot_failure(env: Env) -> None:
    """gunicorn, the app raises RuntimeError at import (missing model): "Worker failed to boot"."""
    bin_dir = env.venv("gunicorn")
    for workers, name in (("1", "boot_failure.log"), ("2", "boot_failure_workers2.log")):
        port = free_port()
        argv = gunicorn_app_argv(bin_dir, port, "flask_boot_fail:app", "--workers", workers)
        run_until_exit(Server(f"gunicorn-w{workers}", argv, SAMPLES / "gunicorn" / name))


def scenario_gunicorn_app_load(env: Env) -> None:
    """gunicorn, APP_MODULE names a missing attribute (module:application): "App failed to load"."""
    bin_dir = env.venv("gunicorn")
    port = free_port()
    argv = gunicorn_app_argv(bin_dir, port, "flask_app:application", "--workers", "1")
    server = Server("gunicorn", argv, SAMPLES / "gunicorn" / "app_load_failure.log")
    run_until_exit(server)


def scenario_gunicorn_segfault(env: Env) -> None:
    """gunicorn, /predict segfaults the worker (ctypes NULL read): "was sent SIGSEGV!" x8."""
    bin_dir = env.venv("gunicorn")
    port = free_port()
    argv = gunicorn_app_argv(bin_dir, port, "flask_model:app", "--workers", "2", "--timeout", "30")
    out = SAMPLES / "gunicorn" / "segfault_loop.log"
    server = Server("gunicorn", argv, out, env={"CAPTURE_PREDICT_CRASH": "segv"})
    wait_port(port, server)
    server.wait_for("Booting worker", 10)
    time.sleep(0.5)
    say("2 s of GET /health, then 8 POST /predict (each kills its worker), /health in between")
    for _ in range(4):
        say(f"  /health -> {request(port, 'GET', '/health')}")
        time.sleep(0.5)
    for _ in range(8):
        say(f"  /predict -> {predict(port, timeout=10)}")
        time.sleep(0.4)
        say(f"  /health -> {request(port, 'GET', '/health')}")
        time.sleep(0.4)
    time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def scenario_gunicorn_max_requests(env: Env) -> None:
    """gunicorn --max-requests 5 --max-requests-jitter 0: "Autorestarting worker" (healthy)."""
    bin_dir = env.venv("gunicorn")
    port = free_port()
    argv = gunicorn_argv(
        bin_dir, port, "--workers", "2", "--max-requests", "5", "--max-requests-jitter", "0"
    )
    server = Server("gunicorn", argv, SAMPLES / "gunicorn" / "max_requests.log")
    wait_port(port, server)
    server.wait_for("Booting worker", 10)
    time.sleep(0.5)
    say("24 sequential POST /predict, 0.2 s apart")
    results: collections.Counter[str] = collections.Counter()
    for _ in range(24):
        results[predict(port)] += 1
        time.sleep(0.2)
    say(f"  results: {dict(results)}")
    time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def scenario_uvicorn_worker_crash(env: Env) -> None:
    """uvicorn --workers 2, /predict segfaults its worker: "Child process [N] died" x4."""
    bin_dir = env.venv("uvicorn")
    port = free_port()
    argv = [
        str(bin_dir / "uvicorn"),
        "asgi_crash:app",
        "--app-dir",
        str(APPS),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "2",
        "--access-log",
    ]
    server = Server("uvicorn", argv, SAMPLES / "uvicorn" / "worker_crash.log")
    wait_port(port, server)
    server.wait_for("Application startup complete", 20)
    time.sleep(1)
    for _ in range(3):
        say(f"  /health -> {request(port, 'GET', '/health')}")
    for _ in range(4):
        say(f"  /predict -> {predict(port, timeout=10)}")
        time.sleep(2)  # the supervisor checks its children every 0.5 s
        say(f"  /health -> {request(port, 'GET', '/health')}")
    time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(timeout=20, term=False)


def scenario_nginx_refused(env: Env) -> None:
    """nginx in front of a gunicorn that is stopped mid-run: "Connection refused" + 502s."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        say("nginx is not installed (apt-get install -y nginx): skipped")
        return
    bin_dir = env.venv("gunicorn")
    up_port, port = free_port(), free_port()
    prefix = env.workdir / "nginx-refused"
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.mkdir(parents=True)
    conf = (APPS / "nginx.conf.in").read_text()
    for key, val in {
        "@PREFIX@": str(prefix),
        "@PORT@": str(port),
        "@UPSTREAM_PORT@": str(up_port),
    }.items():
        conf = conf.replace(key, val)
    (prefix / "nginx.conf").write_text(conf)
    argv = gunicorn_argv(bin_dir, up_port, "--workers", "2")
    upstream = Server("gunicorn", argv, env.raw / "upstream_refused_gunicorn.log")
    wait_port(up_port, upstream)
    proxy = Server(
        "nginx",
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"],
        SAMPLES / "nginx" / "upstream_refused.log",
    )
    try:
        wait_port(port, proxy)
        say("3 s of traffic through nginx with the backend up")
        load = Load()
        load.add("predict", lambda: predict(port), seconds=3, pause=0.5)
        load.add("health", lambda: request(port, "GET", "/health"), seconds=3, pause=1)
        load.join()
        upstream.stop()  # the backend goes away (SIGTERM, graceful)
        say("4 s of traffic through nginx with nothing listening on the upstream port")
        load = Load()
        load.add("predict", lambda: predict(port), seconds=4, pause=0.5)
        load.add("health", lambda: request(port, "GET", "/health"), seconds=4, pause=1)
        load.join()
    finally:
        proxy.signal(signal.SIGQUIT)
        proxy.stop(term=False)
        upstream.stop()


def scenario_flask_error_burst(env: Env) -> None:
    """gunicorn + Flask, /predict KeyError on bodies without "inputs": "Exception on" + 500s."""
    bin_dir = env.venv("gunicorn")
    port = free_port()
    argv = gunicorn_app_argv(bin_dir, port, "flask_model:app", "--workers", "2", "--timeout", "30")
    server = Server("gunicorn", argv, SAMPLES / "flask" / "error_burst.log")
    wait_port(port, server)
    server.wait_for("Booting worker", 10)
    time.sleep(0.5)
    good = json.dumps({"inputs": [[0.1, 0.2, 0.3]]}).encode()
    bad = json.dumps({"instances": [[0.1, 0.2, 0.3]]}).encode()  # a client on the old API
    headers = {"Content-Type": "application/json"}
    plan = "gggg" + "gbgbbgbbgb" + "gggg"
    say(f"{len(plan)} POST /predict, {plan.count('b')} without 'inputs': {plan}")
    results: collections.Counter[str] = collections.Counter()
    for step in plan:
        body = good if step == "g" else bad
        results[request(port, "POST", "/predict", body=body, headers=headers)] += 1
        time.sleep(0.2)
    say(f"  results: {dict(results)}")
    time.sleep(0.5)
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def werkzeug_disconnect(env: Env, venv_name: str, out: Path) -> None:
    bin_dir = env.venv(venv_name)
    port = free_port()
    argv = gunicorn_app_argv(bin_dir, port, "wsgi_upload:app", "--workers", "2", "--timeout", "30")
    server = Server(f"gunicorn+{venv_name}", argv, out)
    wait_port(port, server)
    server.wait_for("Booting worker", 10)
    time.sleep(0.5)
    plan = ["ok", "shutdown", "ok", "close", "shutdown", "ok", "close", "shutdown", "ok"]
    for step in plan:
        res = upload(port, size=40_000, cut=None if step == "ok" else step)
        say(f"  upload {step:8} -> {res}")
        time.sleep(0.3)
    time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def scenario_werkzeug_disconnect(env: Env) -> None:
    """gunicorn + plain werkzeug 1.0.1 app, uploads cut short: ClientDisconnected tracebacks."""
    werkzeug_disconnect(env, "werkzeug1", SAMPLES / "werkzeug" / "client_disconnected.log")


def scenario_werkzeug3_disconnect(env: Env) -> None:
    """The same on werkzeug 3 (kept in the work dir only: werkzeug 3 raises nothing here)."""
    werkzeug_disconnect(env, "gunicorn", env.raw / "werkzeug3_client_disconnected.log")


def scenario_gunicorn_cold_start(env: Env) -> None:
    """gunicorn + Flask loading its model for 4 s in a thread; /readyz polled: 503s, then 200s."""
    bin_dir = env.venv("gunicorn")
    port = free_port()
    argv = gunicorn_app_argv(bin_dir, port, "flask_model:app", "--workers", "2", "--timeout", "30")
    out = SAMPLES / "gunicorn" / "cold_start.log"
    server = Server("gunicorn", argv, out, env={"CAPTURE_LOAD_SECONDS": "4"})
    say("polling GET /readyz every 0.25 s from process start, a POST /predict every 1 s")
    polls: collections.Counter[str] = collections.Counter()
    start = time.monotonic()
    next_predict = start
    ready_at = None
    while time.monotonic() - start < 20:
        res = request(port, "GET", "/readyz", timeout=2)
        polls[f"readyz:{res}"] += 1
        if res == "200" and ready_at is None:
            ready_at = time.monotonic()
        if time.monotonic() >= next_predict and res != "ConnectionRefusedError":
            polls[f"predict:{predict(port, timeout=5)}"] += 1
            next_predict = time.monotonic() + 1
        if ready_at is not None and time.monotonic() - ready_at > 1.5:
            break
        if server.proc.poll() is not None:
            break
        time.sleep(0.25)
    say(f"  polls: {dict(polls)}")
    for _ in range(3):
        say(f"  /predict -> {predict(port)}")
    time.sleep(0.5)
    server.signal(signal.SIGTERM)
    server.stop(term=False)


def scenario_bentoml_batching(env: Env) -> None:
    """bentoml serve, batchable API (max batch 2, max latency 50 ms) taking 0.5 s, flooded."""
    bin_dir = env.venv("bentoml", install_timeout=600)
    port = free_port()
    server = Server(
        "bentoml",
        bentoml_argv(bin_dir, "Batching", port),
        SAMPLES / "bentoml" / "batch_overload.log",
        env=bentoml_env(env),
    )
    wait_port(port, server, timeout=120)
    end = time.monotonic() + 60
    while time.monotonic() < end and request(port, "GET", "/readyz", timeout=2) != "200":
        time.sleep(0.5)
    say("3 sequential /predict")
    for _ in range(3):
        say(f"  -> {predict(port)}")
    for wave in range(2):  # each rejection logs a ~29-line traceback: keep the file small
        say(f"wave {wave + 1}: 6 concurrent /predict")
        burst(6, lambda: predict(port, timeout=30))
        time.sleep(1)
    server.signal(signal.SIGTERM)
    server.stop(timeout=30, term=False)


# --------------------------------------------------------------------------- re-framing

GUNICORN_TS = re.compile(rb"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([+-]\d{4})\] ")
ACCESS_TS = re.compile(rb"\[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d) ([+-]\d{4})\] \"")


def own_second(line: bytes) -> int | None:
    """The Unix second of a gunicorn error-log or access-log line's own timestamp."""
    if m := GUNICORN_TS.match(line):
        fmt = "%Y-%m-%d %H:%M:%S %z"
    elif m := ACCESS_TS.search(line):
        fmt = "%d/%b/%Y:%H:%M:%S %z"
    else:
        return None
    text = (m.group(1) + b" " + m.group(2)).decode()
    return int(dt.datetime.strptime(text, fmt).timestamp())


def stamped(log: Path, times: Path) -> list[tuple[int, int, bytes]]:
    """(envelope ns, monotonic ns, line) for each line of a capture.

    The envelope time is when the line came out of the server's pipe (as a container runtime or
    journald stamps it), kept inside the line's own gunicorn second; a line without a timestamp
    (a traceback line) stays inside the previous line's second; never earlier than the line before.
    """
    lines = log.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    arrivals = [tuple(map(int, t.split())) for t in times.read_text().splitlines()]
    if len(arrivals) != len(lines):
        raise RuntimeError(f"{log}: {len(lines)} lines but {len(arrivals)} arrival times")
    out: list[tuple[int, int, bytes]] = []
    prev_ns, sec = 0, None
    for (arrived, mono), line in zip(arrivals, lines, strict=True):
        sec = own_second(line) or sec
        ns = arrived
        if sec is not None:
            ns = min(max(ns, sec * 10**9), sec * 10**9 + 999_999_999)
        ns = max(ns, prev_ns)
        out.append((ns, mono, line))
        prev_ns = ns
    return out


def rfc3339nano(ns: int) -> str:
    """The kubelet's timestamp for `kubectl logs --timestamps`: Go layout RFC3339NanoFixed
    ("2006-01-02T15:04:05.000000000Z07:00", always 9 digits), in UTC."""
    sec, frac = divmod(ns, 10**9)
    base = dt.datetime.fromtimestamp(sec, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def crash_loop_inputs(env: Env) -> dict[str, tuple[Path, Path]]:
    pods = {
        "bento-7d9f8b6c4-x2k9p": (
            SAMPLES / "gunicorn" / "crash_loop.log",
            env.raw / "crash_loop_pod_a.times",
        ),
        "bento-7d9f8b6c4-q8w4n": (
            env.raw / "crash_loop_pod_b.log",
            env.raw / "crash_loop_pod_b.times",
        ),
    }
    for log, times in pods.values():
        if not (log.exists() and times.exists()):
            raise RuntimeError(f"{log} or {times} missing: run the crash_loop scenario first")
    return pods


def scenario_kubectl(env: Env) -> None:
    """`kubectl logs deploy/bento --prefix --timestamps` over the two crash-loop "pods"."""
    merged: list[tuple[int, int, bytes]] = []
    for i, (pod, (log, times)) in enumerate(crash_loop_inputs(env).items()):
        prefix = f"[pod/{pod}/bento] ".encode()
        merged += [
            (ns, i, prefix + rfc3339nano(ns).encode() + b" " + line)
            for ns, _, line in stamped(log, times)
        ]
    merged.sort(key=lambda t: (t[0], t[1]))  # stable: each pod's own order is kept
    out = SAMPLES / "kubectl" / "crash_loop.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(line + b"\n" for _, _, line in merged))
    say(f"wrote {out} ({len(merged)} lines)")


def journal_export(entries: list[dict[str, str | int]]) -> bytes:
    """systemd's Journal Export Format (text fields; a binary field when the value has \\n)."""
    buf = bytearray()
    for entry in entries:
        for key, value in entry.items():
            raw = str(value).encode()
            if b"\n" in raw:
                buf += key.encode() + b"\n" + len(raw).to_bytes(8, "little") + raw + b"\n"
            else:
                buf += key.encode() + b"=" + raw + b"\n"
        buf += b"\n"
    return bytes(buf)


def scenario_journald(env: Env) -> None:
    """`journalctl -o json -u bento.service` for pod a's crash loop, made by journald's own
    code: entries imported with systemd-journal-remote, printed by journalctl."""
    log, times = crash_loop_inputs(env)["bento-7d9f8b6c4-x2k9p"]
    lines = stamped(log, times)
    master = re.search(rb"Listening at: \S+ \((\d+)\)", log.read_bytes())
    pid = master.group(1).decode() if master else "1"
    boot_id = uuid.UUID(Path("/proc/sys/kernel/random/boot_id").read_text().strip()).hex
    machine_id = hashlib.sha256(b"logscan-capture-machine").hexdigest()[:32]
    invocation = hashlib.sha256(log.read_bytes()).hexdigest()[:32]
    stream_id = hashlib.sha256(b"stream" + log.read_bytes()).hexdigest()[:32]
    venv = "/opt/bento/venv"
    cmdline = (
        f"{venv}/bin/python3 {venv}/bin/gunicorn --bind 0.0.0.0:3000 --access-logfile - "
        "--workers 2 --timeout 2 --graceful-timeout 3 service:app"
    )
    entries: list[dict[str, str | int]] = []
    for ns, mono, line in lines:
        entries.append(
            {
                "__REALTIME_TIMESTAMP": ns // 1000,
                "__MONOTONIC_TIMESTAMP": mono // 1000,
                "_BOOT_ID": boot_id,
                "PRIORITY": 6,
                "SYSLOG_FACILITY": 3,
                "_UID": 998,
                "_GID": 998,
                "_CAP_EFFECTIVE": 0,
                "_MACHINE_ID": machine_id,
                "_HOSTNAME": "ml-node-3",
                "_TRANSPORT": "stdout",
                "_STREAM_ID": stream_id,
                "SYSLOG_IDENTIFIER": "gunicorn",
                "_PID": pid,
                "_COMM": "gunicorn",
                "_EXE": "/usr/bin/python3.11",
                "_CMDLINE": cmdline,
                "_SYSTEMD_CGROUP": "/system.slice/bento.service",
                "_SYSTEMD_UNIT": "bento.service",
                "_SYSTEMD_SLICE": "system.slice",
                "_SYSTEMD_INVOCATION_ID": invocation,
                "MESSAGE": line.decode("utf-8", "replace"),
            }
        )
    export = journal_export(entries)
    (env.raw / "crash_loop.export").write_bytes(export)
    out = SAMPLES / "journald" / "crash_loop.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    remote = Path("/usr/lib/systemd/systemd-journal-remote")
    journal = env.raw / "bento.journal"
    journal.unlink(missing_ok=True)
    if remote.exists() and shutil.which("journalctl"):
        say(f"importing {len(entries)} entries with {remote} --output={journal} -")
        subprocess.run(
            [str(remote), f"--output={journal}", "-"], input=export, check=True, timeout=60
        )
        say(f"journalctl --file {journal} -u bento.service -o json > {out}")
        with open(out, "wb") as fh:
            subprocess.run(
                [
                    "journalctl",
                    "--file",
                    str(journal),
                    "-u",
                    "bento.service",
                    "-o",
                    "json",
                    "--no-pager",
                ],
                stdout=fh,
                check=True,
                timeout=60,
            )
        n = sum(1 for _ in out.open("rb"))
        if n != len(entries):
            raise RuntimeError(f"journalctl printed {n} entries, expected {len(entries)}")
        say(f"wrote {out} ({n} entries, real journalctl output)")
    else:
        raise RuntimeError(
            "systemd-journal-remote not installed: apt-get install systemd-journal-remote"
        )


# --------------------------------------------------------------------------- main

SCENARIOS: dict[str, Callable[[Env], None]] = {
    "crash_loop": scenario_crash_loop,
    "graceful": scenario_graceful,
    "gunicorn19": scenario_gunicorn19,
    "gunicorn20": scenario_gunicorn20,
    "uvicorn_overload": scenario_uvicorn_overload,
    "uvicorn_startup": scenario_uvicorn_startup,
    "bentoml_overload": scenario_bentoml_overload,
    "bentoml_cold_start": scenario_bentoml_cold_start,
    "flask_parse": scenario_flask_parse,
    "flask_parse_werkzeug1": scenario_flask_parse_werkzeug1,
    "flask_parse_silent": scenario_flask_parse_silent,
    "nginx": scenario_nginx,
    "kubectl": scenario_kubectl,
    "journald": scenario_journald,
    "gunicorn_boot_failure": scenario_gunicorn_boot_failure,
    "gunicorn_app_load": scenario_gunicorn_app_load,
    "gunicorn_segfault": scenario_gunicorn_segfault,
    "gunicorn_max_requests": scenario_gunicorn_max_requests,
    "gunicorn_cold_start": scenario_gunicorn_cold_start,
    "uvicorn_worker_crash": scenario_uvicorn_worker_crash,
    "nginx_refused": scenario_nginx_refused,
    "flask_error_burst": scenario_flask_error_burst,
    "werkzeug_disconnect": scenario_werkzeug_disconnect,
    "werkzeug3_disconnect": scenario_werkzeug3_disconnect,
    "bentoml_batching": scenario_bentoml_batching,
}


def report(paths: list[Path]) -> None:
    for path in paths:
        if not path.exists():
            continue
        data = path.read_bytes().decode("utf-8", "replace")
        lines = data.splitlines()
        print(f"\n===== {path.relative_to(REPO)}: {len(lines)} lines, first 15:")
        for line in lines[:15]:
            print(f"  {line[:220]}")
        counts = {k.strip(): sum(k in ln for ln in lines) for k in REPORT_KEYS}
        print("  counts: " + ", ".join(f"{k!r}={v}" for k, v in counts.items() if v))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "logscan-capture",
        help="virtualenvs and intermediate files (default: %(default)s)",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    parser.add_argument("--report", action="store_true", help="only print the samples' summary")
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in SCENARIOS.items():
            print(f"{name:22} {(fn.__doc__ or '').strip().splitlines()[0] if fn.__doc__ else ''}")
        return 0
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    env = Env(args.workdir.resolve())
    if args.report:
        report(sorted(SAMPLES.glob("*/*.log")) + sorted(SAMPLES.glob("*/*.jsonl")))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    failed: list[str] = []
    try:
        for name in args.scenarios or list(SCENARIOS):
            say(f"=== scenario {name}")
            try:
                SCENARIOS[name](env)
            except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                say(f"scenario {name} FAILED: {exc!r}")
                failed.append(name)
            finally:
                stop_all()
    finally:
        stop_all()
    for name, versions in env.versions.items():
        pins = [p.split("==")[0] for p in VENVS[name]]
        say(f"venv {name}: " + ", ".join(f"{p} {versions.get(p, '?')}" for p in pins))
    report(sorted(SAMPLES.glob("*/*.log")) + sorted(SAMPLES.glob("*/*.jsonl")))
    if failed:
        say(f"failed scenarios: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
