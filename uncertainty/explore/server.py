"""The live page's server: a Starlette app on uvicorn, serving a JSON API and its own files.

Routes
------
``GET /``                      the page (``static/index.html``; scripts and styles under
                               ``/static/``, nothing from elsewhere)
``GET /api/priors``            the loaded prior file: each assumption's editable table
``POST /api/summary``          ``{"assumptions": {NAME: {family fields}}}`` (overrides of the
                               loaded priors; ``{}`` for none) -> ``{"outputs": {OUTPUT: {the
                               keys of summary.json's outputs}}, "histograms", "tornado", ...}``;
                               writes nothing
``POST /api/save``             the same body -> a new prior file, never over an existing one
``POST /api/report``           the same body -> that file and its full report
``GET /reports/{n}``           a report this session wrote

Bad requests (malformed JSON, an unknown assumption, wrong types, a body over
:data:`MAX_BODY_BYTES`) answer 400 with ``{"error": "<the one-line message the CLI gives>"}``
and, when the message is about one assumption, ``"assumption": NAME``. POST bodies must be
``application/json`` (a page elsewhere cannot send that to this server without its consent), and
only the host names the server was started for are answered (no DNS rebinding).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import UserError
from .session import Explorer

__all__ = ["MAX_BODY_BYTES", "STATIC", "BadRequest", "create_app"]

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 256 * 1024  # a prior file's worth of overrides is a few kB


class BadRequest(Exception):
    """A request the API refuses, with the message the user sees."""


def create_app(explorer: Explorer, save_folder: Path, reports_folder: Path,
               hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Starlette:
    """The app for one :class:`Explorer`: prior files are saved in ``save_folder``, reports
    written under ``reports_folder``."""
    reports: dict[int, Path] = {}  # the reports this session wrote, by number
    writing = threading.Lock()

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def priors(_: Request) -> Response:
        return JSONResponse(explorer.description())

    async def summary(request: Request) -> Response:
        return await _answer(request, explorer.summary)

    def save(overrides: dict) -> dict:
        with writing:
            path = explorer.save(overrides, save_folder)
        return {"path": str(path)}

    def report(overrides: dict) -> dict:
        from ..report.writer import run_report

        with writing:
            path = explorer.save(overrides, save_folder)
            out = reports_folder / path.stem
            run_report(str(path), out, samples=None, seed=explorer.seed,
                       model=explorer.model_option)
            number = len(reports) + 1
            reports[number] = out
        return {"path": str(path), "report": str(out), "url": f"/reports/{number}"}

    async def saved(request: Request) -> Response:
        return await _answer(request, save)

    async def reported(request: Request) -> Response:
        return await _answer(request, report)

    async def open_report(request: Request) -> Response:
        out = reports.get(request.path_params["number"])
        if out is None:
            return JSONResponse({"error": "no such report in this session"}, status_code=404)
        return HTMLResponse((out / "report.html").read_text("utf-8"))

    routes = [
        Route("/", page),
        Route("/api/priors", priors),
        Route("/api/summary", summary, methods=["POST"]),
        Route("/api/save", saved, methods=["POST"]),
        Route("/api/report", reported, methods=["POST"]),
        Route("/reports/{number:int}", open_report),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))]
    return Starlette(routes=routes, middleware=middleware)


async def _answer(request: Request, work) -> Response:
    """Parse the overrides, run ``work`` off the event loop, and answer 200 or 400 (500, with
    one line, for a bug: the server keeps serving)."""
    overrides: dict = {}
    try:
        overrides = await _overrides(request)
        return JSONResponse(await run_in_threadpool(work, overrides))
    except BadRequest as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    except UserError as err:  # PriorError is one: the CLI's own one-line message
        message = str(err)
        body = {"error": message}
        name = _assumption_named(message, overrides)
        if name:
            body["assumption"] = name
        return JSONResponse(body, status_code=400)
    except (ValueError, TypeError, OverflowError) as err:  # numbers the engine cannot use
        return JSONResponse({"error": f"cannot use these values: {_first_line(err)}"},
                            status_code=400)
    except Exception as err:  # a bug, not bad input: say so in one line and keep serving
        message = f"internal error: {type(err).__name__}: {_first_line(err)}"
        print(f"sora-uq explore: {message}", file=sys.stderr)
        return JSONResponse({"error": message}, status_code=500)


async def _overrides(request: Request) -> dict:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest("send the body as JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(f"request body over {MAX_BODY_BYTES // 1024} kB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(f"request body over {MAX_BODY_BYTES // 1024} kB")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise BadRequest(f"request body is not valid JSON ({_first_line(err)})") from None
    if not isinstance(data, dict) or set(data) != {"assumptions"}:
        raise BadRequest('expected {"assumptions": {NAME: {dist = ..., ...}}} '
                         '({"assumptions": {}} for the file as it is)')
    if not isinstance(data["assumptions"], dict):
        raise BadRequest('"assumptions" must be an object of assumption name -> table')
    return data["assumptions"]


def _assumption_named(message: str, overrides) -> str | None:
    """The overridden assumption a validation message is about (its ``file: NAME:`` part)."""
    for name in overrides if isinstance(overrides, dict) else ():
        if f": {name}:" in message or f"'{name}'" in message:
            return name
    return None


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
