"""Tiny Flask "model server" used by scripts/capture_samples.py (gunicorn + flask scenarios).

Endpoints:
  GET  /health        200, instantly
  POST /predict       JSON "inference"; how long it takes is set by the environment:
                      CAPTURE_PREDICT_SLEEP   seconds of time.sleep() (Python-level wait)
                      CAPTURE_NATIVE_ITERS    pbkdf2 iterations: one long native call that holds
                                              the worker's main thread (like a C/CUDA inference
                                              call), so gunicorn's SIGABRT handler cannot run
                      ?mode=native / ?mode=sleep picks one per request (default: sleep)
                      multipart/form-data: request.files["file"].read() (an image to classify)

CAPTURE_STRICT_FORMS=1 makes multipart parse errors raise instead of being swallowed: werkzeug's
FormDataParser is silent by default (a truncated upload then just has no "file" -> 400); an app that
sets `silent = False` (as here, through its request class) gets the ValueError and a traceback.

Works with Flask 1.1 and Flask 3.
"""

import hashlib
import os
import time

from flask import Flask, Request, jsonify, request


class StrictFormRequest(Request):
    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser


app = Flask(__name__)
if os.environ.get("CAPTURE_STRICT_FORMS") == "1":
    app.request_class = StrictFormRequest

SLEEP = float(os.environ.get("CAPTURE_PREDICT_SLEEP", "0.05"))
NATIVE_ITERS = int(os.environ.get("CAPTURE_NATIVE_ITERS", "1000"))


@app.route("/health")
def health():
    return "ok\n"


@app.route("/predict", methods=["POST"])
def predict():
    if request.mimetype == "multipart/form-data":
        data = request.files["file"].read()
        return jsonify({"label": "cat", "score": 0.93, "bytes": len(data)})
    payload = request.get_json(silent=True) or {}
    if request.args.get("mode") == "native":
        digest = hashlib.pbkdf2_hmac("sha256", b"weights", b"salt", NATIVE_ITERS).hex()[:8]
    else:
        time.sleep(SLEEP)
        digest = "slept"
    return jsonify({"label": "cat", "score": 0.93, "n": len(payload), "digest": digest})
