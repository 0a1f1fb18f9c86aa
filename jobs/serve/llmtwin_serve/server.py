"""The HTTP side: SageMaker's serving contract on a local port. GET /ping answers 200 once the model is
loaded; POST /invocations takes an OpenAI chat body (or the legacy one) and answers whole, or as
server-sent events when "stream" is true, as the vLLM container does."""

from __future__ import annotations

import json
import logging
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .generation import Generator
from .metrics import Meter
from .protocol import DONE_EVENT, BadRequest, chunk_event, completion, legacy_answer, legacy_token_event, parse_request

LOG = logging.getLogger("llmtwin.serve")
MAX_BODY_BYTES = 1_000_000


def make_server(host: str, port: int, generator: Generator, meter: Meter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        # Close-delimited responses: a stream ends when the connection does, as with any SSE over HTTP/1.0.
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            LOG.info("%s %s", self.address_string(), format % args)

        def _json(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/ping":
                self._json(200, {"status": "healthy"})
            else:
                self._json(404, {"error": f"no route {self.path}: use GET /ping or POST /invocations"})

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/invocations":
                self._json(404, {"error": f"no route {self.path}: use POST /invocations"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._json(413, {"error": f"the body is over {MAX_BODY_BYTES} bytes"})
                return
            started = time.monotonic()
            try:
                request = parse_request(self.rfile.read(length))
            except BadRequest as error:
                self._json(400, {"error": str(error)})
                return
            try:
                if request.stream:
                    self._stream(request)
                else:
                    text, prompt_tokens, completion_tokens, finish = generator.complete(request.messages, request.max_tokens, request.temperature)
                    self._json(200, legacy_answer(text) if request.legacy else completion(text, generator.name, prompt_tokens, completion_tokens, finish))
            except (BrokenPipeError, ConnectionResetError):
                LOG.info("the client went away mid-answer")
            except Exception as error:  # the model failed: a 500 the caller can read, and the server stays up
                LOG.exception("generation failed")
                self._json(500, {"error": f"generation failed: {error}"})
            finally:
                meter.record(time.monotonic() - started)

        def _stream(self, request: Any) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            chunk_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
            if not request.legacy:
                self.wfile.write(chunk_event(chunk_id, generator.name, {"role": "assistant"}, None))
            for piece in generator.stream(request.messages, request.max_tokens, request.temperature):
                self.wfile.write(legacy_token_event(piece) if request.legacy else chunk_event(chunk_id, generator.name, {"content": piece}, None))
                self.wfile.flush()
            if not request.legacy:
                self.wfile.write(chunk_event(chunk_id, generator.name, {}, "stop"))
            self.wfile.write(DONE_EVENT)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
