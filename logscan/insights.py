"""What each kind of incident means, why it happens and what to change.

The knowledge comes from the project's seed notes on BentoML and gunicorn services (its
configuration parameters `workers`, `traffic.max_concurrency`, `threads`,
`scaling.min_replicas`, and its insights on overload, crash loops, multipart parsing and
scale-from-zero). One text per kind, refined by cause where the cause changes the advice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Insight:
    """The explanation attached to an incident of one kind (and cause)."""

    summary: str
    remediation: tuple[str, ...]


_WORKERS = "Run `workers` = CPU count (gunicorn `--workers`, BentoML `workers=`), not 1."
_MAX_CONCURRENCY = (
    "Set `traffic.max_concurrency` (about 50 to start) in `@bentoml.service(traffic=...)` so "
    "excess requests queue or are refused early instead of exhausting the worker."
)
_ASYNC = (
    "Make synchronous endpoints `async def` (awaiting I/O), or raise `threads` "
    "(`@bentoml.service(threads=N)`, gunicorn `--threads`): a sync endpoint serves one request "
    "at a time per thread and blocks batching."
)
_READYZ = (
    "Gate traffic on readiness: route requests only after `GET /readyz` returns 200 "
    "(`curl -X GET https://<deployment-url>/readyz`), and use it as the readiness probe."
)

_BY_KIND: dict[str, Insight] = {
    "crash_loop": Insight(
        summary=(
            "Workers keep dying and being replaced. Under concurrent load a worker that holds "
            "a request longer than the worker `timeout` is killed by the master; its "
            "replacement takes the same load and dies the same way."
        ),
        remediation=(
            "Raise the worker `timeout` above the slowest legitimate request (gunicorn "
            "`--timeout`).",
            _MAX_CONCURRENCY,
            _WORKERS,
            _ASYNC,
        ),
    ),
    "startup_failure": Insight(
        summary=(
            "The server could not start its application: a worker failed to boot or the app "
            "failed to load, so the master exits and the service is down until it is fixed."
        ),
        remediation=(
            "Read the traceback in the evidence: an import error, a missing model file or "
            "setting, or a failing start-up hook is the usual cause.",
            "Run the app locally with the same settings (`gunicorn --preload ...` reports "
            "import errors at once).",
        ),
    ),
    "overload": Insight(
        summary=(
            "The service refuses or times out a large share of requests: more requests arrive "
            "than its workers can hold, and without a bounded queue the excess is rejected."
        ),
        remediation=(_MAX_CONCURRENCY, _WORKERS, _ASYNC, "Scale out replicas on concurrency."),
    ),
    "cold_start_unavailable": Insight(
        summary=(
            "Requests arrived while the service was still starting (loading its model, or "
            "scaling from zero) and were answered 503 until it was ready."
        ),
        remediation=(
            _READYZ,
            "If scale-to-zero is not wanted, keep `services.<name>.scaling.min_replicas` >= 1.",
        ),
    ),
    "request_parse_failure": Insight(
        summary=(
            "Request bodies could not be parsed: multipart uploads ended early (`unexpected end "
            "of stream`), typically clients that disconnect or time out while the server is "
            "too busy to read their upload promptly."
        ),
        remediation=(
            "Check client and proxy timeouts and body-size limits for uploads.",
            _MAX_CONCURRENCY,
            "Validate uploads and return 400 instead of letting the parse error become a 500.",
        ),
    ),
    "error_burst": Insight(
        summary="Many requests failed with server errors that no other incident explains.",
        remediation=(
            "Read the evidence tracebacks for the failing code path.",
            "A 502 from the proxy means the upstream worker closed or died: check its logs.",
        ),
    ),
}

_BY_CAUSE: dict[tuple[str, str], Insight] = {
    ("crash_loop", "oom"): Insight(
        summary=(
            "Workers are killed with SIGKILL, which the master reports as 'Perhaps out of "
            "memory?': the kernel OOM killer or the container memory limit ends them."
        ),
        remediation=(
            "Raise the container memory limit or lower per-worker memory (smaller batches, "
            "load the model once with `--preload`).",
            "Fewer workers per container if each holds its own model copy.",
            _MAX_CONCURRENCY,
        ),
    ),
    ("crash_loop", "container_exit"): Insight(
        summary=(
            "The container itself keeps dying (its `kubectl logs` stream ends again and "
            "again): Kubernetes restarts it and will back off (CrashLoopBackOff)."
        ),
        remediation=(
            "`kubectl describe pod` for the last state: OOMKilled means raise the memory "
            "limit; a non-zero exit code means read the evidence lines before it.",
            "`kubectl logs --previous` shows what the dead container printed last.",
            _READYZ,
        ),
    ),
    ("crash_loop", "exit_code"): Insight(
        summary="Workers exit with an error code right after starting, and are restarted.",
        remediation=(
            "Read the worker traceback in the evidence: the worker fails during boot.",
            _BY_KIND["startup_failure"].remediation[1],
        ),
    ),
    ("overload", "http_429"): Insight(
        summary=(
            "BentoML's concurrency limiter answers 429 'Too many requests': requests beyond "
            "`traffic.max_concurrency` are refused."
        ),
        remediation=(
            "If the limit is right, scale out replicas (concurrency-based autoscaling) or "
            "have clients retry with back-off; if it is too low, raise "
            "`traffic.max_concurrency`.",
            _WORKERS,
            _ASYNC,
        ),
    ),
    ("overload", "upstream_timeout"): Insight(
        summary=(
            "The proxy gave up waiting for the model server (nginx `upstream timed out`, 504): "
            "requests queue behind busy workers longer than `proxy_read_timeout`."
        ),
        remediation=(
            _MAX_CONCURRENCY,
            _WORKERS,
            _ASYNC,
            "Raise `proxy_read_timeout` only to the slowest legitimate request.",
        ),
    ),
    ("overload", "http_504"): Insight(
        summary="Requests time out (504): they wait in the queue longer than the timeout.",
        remediation=(
            "Raise `traffic.timeout` only if clients can wait; otherwise add capacity.",
            _MAX_CONCURRENCY,
            _WORKERS,
        ),
    ),
}


def lookup(kind: str, cause: str) -> tuple[str, tuple[str, ...]]:
    """The insight text and the remediation steps for an incident."""
    insight = _BY_CAUSE.get((kind, cause)) or _BY_KIND.get(kind)
    if insight is None:
        return "", ()
    return insight.summary, insight.remediation


def kinds() -> tuple[str, ...]:
    """Every kind of incident logscan explains."""
    return tuple(_BY_KIND)


def explain(kind: str) -> list[tuple[str, Insight]]:
    """The general insight for `kind`, then each cause-specific one, as (cause, insight)."""
    found = [("", _BY_KIND[kind])] if kind in _BY_KIND else []
    found += [(cause, text) for (k, cause), text in _BY_CAUSE.items() if k == kind]
    return found
