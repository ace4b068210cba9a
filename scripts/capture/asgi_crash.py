"""Starlette app whose /predict crashes the worker process natively (NULL pointer read with
ctypes: SIGSEGV, a stand-in for a crash inside a native inference library), for
scripts/capture_samples.py (scenario uvicorn_worker_crash, `uvicorn --workers 2`).

GET /health -> 200; POST /predict -> the process dies.
"""

import ctypes

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def health(_request):
    return PlainTextResponse("ok\n")


async def predict(request):
    await request.body()
    ctypes.string_at(0)  # SIGSEGV
    return JSONResponse({"label": "cat"})


app = Starlette(routes=[Route("/health", health), Route("/predict", predict, methods=["POST"])])
