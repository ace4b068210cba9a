"""A plain werkzeug WSGI app (no Flask: exceptions reach the server), for scripts/capture_samples.py
(scenario werkzeug_disconnect).

POST /predict reads request.files["file"] (a multipart image upload). When the client sends less
than its Content-Length and goes away, werkzeug 1.x's LimitedStream raises
werkzeug.exceptions.ClientDisconnected, which nothing here catches, so gunicorn logs
"Error handling request" with the traceback.
"""

import json

from werkzeug.wrappers import Request, Response


def app(environ, start_response):
    request = Request(environ)
    if request.path == "/health":
        return Response("ok\n")(environ, start_response)
    if request.path != "/predict" or request.method != "POST":
        return Response("not found\n", status=404)(environ, start_response)
    upload = request.files.get("file")
    if upload is None:
        resp = Response(json.dumps({"error": "no file"}), 400, mimetype="application/json")
        return resp(environ, start_response)
    data = upload.read()
    body = json.dumps({"label": "cat", "score": 0.93, "bytes": len(data)})
    return Response(body, mimetype="application/json")(environ, start_response)
