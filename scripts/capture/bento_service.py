"""BentoML 1.x services for scripts/capture_samples.py.

Overload: a service limited to 2 concurrent requests whose endpoint takes 2 s.
ColdStart: a service whose __init__ takes ~5 s (a slow model load).
Batching: an adaptive-batching endpoint (max 2 per batch, max latency 50 ms) that takes 0.5 s.
"""

import asyncio
import os
import time

import bentoml

INIT_SECONDS = float(os.environ.get("CAPTURE_INIT_SECONDS", "5"))


@bentoml.service(traffic={"max_concurrency": 2, "timeout": 5})
class Overload:
    @bentoml.api
    async def predict(self, text: str = "hello") -> dict:
        await asyncio.sleep(2)
        return {"label": "positive", "chars": len(text)}


@bentoml.service(traffic={"timeout": 10})
class ColdStart:
    def __init__(self) -> None:
        time.sleep(INIT_SECONDS)  # loading the model weights
        self.ready = True

    @bentoml.api
    def predict(self, text: str = "hello") -> dict:
        return {"label": "positive", "chars": len(text)}


@bentoml.service(traffic={"timeout": 30})
class Batching:
    """Adaptive batching that cannot keep up: a batch of 2 takes 0.5 s, max latency 50 ms."""

    @bentoml.api(batchable=True, max_batch_size=2, max_latency_ms=50)
    def predict(self, inputs: list[list[float]]) -> list[float]:
        time.sleep(0.5)  # the model's batched forward pass
        return [sum(row) for row in inputs]
