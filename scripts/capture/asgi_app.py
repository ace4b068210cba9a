"""Tiny Starlette "model server" for the uvicorn overload scenario (scripts/capture_samples.py).

GET /health -> 200 at once; POST|GET /predict -> awaits asyncio.sleep(1) (a slow async model call).
"""

import asyncio

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def health(_request):
    return PlainTextResponse("ok\n")


async def predict(request):
    await request.body()
    await asyncio.sleep(1)
    return JSONResponse({"label": "cat", "score": 0.93})


app = Starlette(
    routes=[Route("/health", health), Route("/predict", predict, methods=["GET", "POST"])]
)
