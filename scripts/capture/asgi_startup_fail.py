"""Starlette app whose lifespan start-up raises (the model file is missing), for uvicorn.

Used by scripts/capture_samples.py (scenario uvicorn_startup).
"""

import contextlib
import os

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

MODEL_PATH = os.environ.get("MODEL_PATH", "/models/classifier.pt")


def load_model(path):
    with open(path, "rb") as fh:  # raises FileNotFoundError: the model was never mounted
        return fh.read()


@contextlib.asynccontextmanager
async def lifespan(app):
    app.state.model = load_model(MODEL_PATH)
    yield


async def health(_request):
    return PlainTextResponse("ok\n")


app = Starlette(routes=[Route("/health", health)], lifespan=lifespan)
