"""Flask "model server" with a model-loading life cycle, for scripts/capture_samples.py
(scenarios gunicorn_cold_start, gunicorn_segfault, flask_error_burst, gunicorn_app_load).

Endpoints:
  GET  /health   200 at once (liveness)
  GET  /readyz   503 until the model is loaded, then 200 (readiness)
  POST /predict  503 until the model is loaded; then reads payload["inputs"] -- a real bug: a
                 body without "inputs" raises KeyError (Flask logs "Exception on /predict [POST]"
                 and answers 500)

Environment:
  CAPTURE_LOAD_SECONDS   the model loads in a background thread started at import (in each gunicorn
                         worker) and takes this long (default 0)
  CAPTURE_PREDICT_CRASH  "segv": /predict dereferences a NULL pointer (ctypes.string_at(0)), which
                         kills the worker with SIGSEGV -- a stand-in for a crash inside a native
                         inference library
"""

import ctypes
import os
import sys
import threading
import time

from flask import Flask, jsonify, request

LOAD_SECONDS = float(os.environ.get("CAPTURE_LOAD_SECONDS", "0"))
CRASH = os.environ.get("CAPTURE_PREDICT_CRASH", "")

app = Flask(__name__)
model: dict = {}


def load_model() -> None:
    started = time.monotonic()
    time.sleep(LOAD_SECONDS)  # reading the weights
    model["weights"] = [0.5, -0.25, 1.0]
    took = time.monotonic() - started
    print(f"model loaded in {took:.1f}s (pid {os.getpid()})", file=sys.stderr, flush=True)


threading.Thread(target=load_model, name="model-loader", daemon=True).start()


@app.route("/health")
def health():
    return "ok\n"


@app.route("/readyz")
def readyz():
    if not model:
        return jsonify({"status": "loading"}), 503
    return jsonify({"status": "ready"})


@app.route("/predict", methods=["POST"])
def predict():
    if not model:
        return jsonify({"error": "model not loaded"}), 503
    payload = request.get_json(force=True)
    features = payload["inputs"]  # KeyError when a client sends {"instances": ...}
    if CRASH == "segv":
        ctypes.string_at(0)  # native crash: SIGSEGV
    w = model["weights"]
    scores = [sum(a * b for a, b in zip(row, w, strict=False)) for row in features]
    return jsonify({"scores": scores})
