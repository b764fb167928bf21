"""The app's edge for every request: text the database cannot store (a NUL byte, a lone
surrogate) and numbers JSON cannot answer (NaN, infinity, 1e309) are refused with a 422
in FastAPI's shape, naming where they are, before any router sees them; and a 422 whose
input echoes such a number is still written as JSON.

One place rather than a type on every text field: a route added later is covered too.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearwell.jsontext import dumps
from clearwell.params import finite, text_problem, value_problems

Problems = list[tuple[tuple[str | int, ...], str]]


def _form_problems(text: str, where: str) -> Problems:
    problems: Problems = []
    for name, value in parse_qsl(text, keep_blank_values=True):
        for part, label in ((name, "a name"), (value, None)):
            problem = text_problem(part)
            if problem:
                loc = (where, name.replace("\x00", "?"))
                problems.append((loc, f"{label}: {problem}" if label else problem))
    return problems


def _body_problems(content_type: str, body: bytes) -> Problems:
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            value = json.loads(body)
        except ValueError:
            return []  # not JSON: FastAPI answers that itself
        return list(value_problems(value, ("body",)))
    if media == "application/x-www-form-urlencoded":
        return _form_problems(body.decode("utf-8", "replace"), "body")
    return []


def problems_of(scope: Scope, content_type: str, body: bytes) -> Problems:
    """Where a request carries what cannot be stored or answered, and why."""
    problems: Problems = []
    problem = text_problem(scope.get("path", ""))
    if problem:
        problems.append((("path",), problem))
    query = scope.get("query_string", b"").decode("latin-1")
    problems += _form_problems(query, "query")
    if body:
        problems += _body_problems(content_type, body)
    return problems


def _refusal(problems: Problems) -> bytes:
    detail = [{"type": "value_error", "loc": list(loc), "msg": msg} for loc, msg in problems]
    return dumps({"detail": detail}).encode()


class RefuseUnstorable:
    """ASGI middleware: reads a request's body (JSON and form bodies are small) and
    hands it on unchanged, or answers 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        body = b""
        messages: list[Message] = []
        if content_type:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
        problems = problems_of(scope, content_type, body)
        if problems:
            content = _refusal(problems)
            await send(
                {
                    "type": "http.response.start",
                    "status": 422,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(content)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": content})
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay if content_type else receive, send)


async def validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, with non-finite numbers in the echoed input written as text (JSON
    has no NaN; FastAPI's own answer raised instead)."""
    assert isinstance(exc, RequestValidationError)
    body = {"detail": finite(jsonable_encoder(exc.errors()))}
    return Response(dumps(body).encode(), status_code=422, media_type="application/json")
