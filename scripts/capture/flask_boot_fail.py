"""Flask app whose import fails: the model file it loads at import time is missing.

Used by scripts/capture_samples.py (scenario gunicorn_boot_failure): the RuntimeError is raised in
every gunicorn worker while it loads the app, so the worker exits with code 3 and the master halts
("Worker failed to boot.").
"""

import os

from flask import Flask, jsonify

MODEL_PATH = os.environ.get("MODEL_PATH", "/models/classifier.pt")


def load_model(path):
    if not os.path.exists(path):
        raise RuntimeError(f"model file missing: {path}")
    with open(path, "rb") as fh:
        return fh.read()


app = Flask(__name__)
model = load_model(MODEL_PATH)


@app.route("/health")
def health():
    return "ok\n"


@app.route("/predict", methods=["POST"])
def predict():
    return jsonify({"bytes": len(model)})
