#!/usr/bin/env python3
"""A tiny fake Jumio for t/package/run: enough for one intake, one callback and one poll of
the installed package (the suite's fake, t/lib/FakeJumio.pm, runs inside mod_perl and checks
far more). Serves, under http://127.0.0.1:<port>/:
  POST auth/oauth2/token                                  an access token
  POST account/api/v1/accounts, PUT .../accounts/<id>     a new workflow of an account
  GET  retrieval/api/v1/accounts/<a>/workflow-executions/<w>[/status]   PROCESSED, PASSED
  GET  status                                             {"status": "UP"}
Every request is appended to <dir>/requests.log ("METHOD path"); the body of the last
account call to <dir>/account_request.json (the module's callbackUrl is in it).

usage: fake_jumio.py <port> <dir>
"""
import json
import re
import sys
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
DIR = sys.argv[2]
WORKFLOW = re.compile(r"^/retrieval/api/v1/accounts/([0-9a-f-]{36})/workflow-executions/"
                      r"([0-9a-f-]{36})(/status)?$")


def now():
    """Jumio's timestamp format."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Fake(BaseHTTPRequestHandler):
    """One request of the module."""

    def answer(self, status, body):
        """Send body as JSON."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        """Route the request."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        with open(f"{DIR}/requests.log", "a") as log:
            log.write(f"{self.command} {path}\n")
        if self.command == "POST" and path == "/auth/oauth2/token":
            return self.answer(200, {"access_token": uuid.uuid4().hex, "expires_in": 3600,
                                     "token_type": "Bearer"})
        m = re.match(r"^/account/api/v1/accounts(?:/([0-9a-f-]{36}))?$", path)
        if m and self.command in ("POST", "PUT") and self.command == ("PUT" if m[1] else "POST"):
            with open(f"{DIR}/account_request.json", "wb") as f:
                f.write(body)
            wid = str(uuid.uuid4())
            return self.answer(200, {
                "timestamp": now(), "account": {"id": m[1] or str(uuid.uuid4())},
                "web": {"href": f"https://fake.web.amer-1.jumio.ai/web/v4/app?id={wid}"},
                "sdk": {"token": "fake-sdk-token"},
                "workflowExecution": {"id": wid, "credentials": [
                    {"id": str(uuid.uuid4()), "category": "ID", "allowedChannels": ["WEB"]}]}})
        m = WORKFLOW.match(path)
        if m and self.command == "GET":
            if m[3]:
                return self.answer(200, {"account": {"id": m[1]}, "workflowExecution": {
                    "id": m[2], "definitionKey": "3", "status": "PROCESSED"}})
            return self.answer(200, {
                "workflow": {"id": m[2], "status": "PROCESSED", "definitionKey": "3"},
                "account": {"id": m[1]}, "createdAt": now(), "completedAt": now(),
                "decision": {"type": "PASSED", "details": {"label": "PASSED"}},
                "capabilities": {"usability": [{"decision": {"type": "PASSED"}}]}})
        if self.command == "GET" and path == "/status":
            return self.answer(200, {"status": "UP"})
        return self.answer(404, {"title": "Not Found", "detail": f"{self.command} {path}"})

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

    def log_message(self, *args):
        """Quiet: requests.log has what the run needs."""


ThreadingHTTPServer(("127.0.0.1", PORT), Fake).serve_forever()
