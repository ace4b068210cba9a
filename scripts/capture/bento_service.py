"""BentoML 1.x services for scripts/capture_samples.py.

Overload: a service limited to 2 concurrent requests whose endpoint takes 2 s.
ColdStart: a service whose __init__ takes ~5 s (a slow model load).
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
