"""The console's routes: each parses the request, calls one service use case (the same the CLI runs) and renders
a template. Mounted before the ARM and ASM routes, which never use these paths (`/`, `/signin`, `/units/…`,
`/resources/…`, `/graph`, `/static/…`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import anyio.to_thread
import httpx
from fastapi import Request
from jinja2 import Environment, FileSystemLoader
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ...domain import catalogue as t
from ...domain.state_machine import Op
from ...domain.units import UnitRef
from ...service import console, credentials, migration
from ...service import fix as fix_service
from ...service.context import store_unavailable
from ...service.errors import ServiceError
from ..asm.versions import NEWEST
from . import security, svg
from .security import SignInRequired, Viewer

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_FILES = {p.name: p for p in STATIC.iterdir() if p.is_file()} if STATIC.is_dir() else {}
MAX_FORM = 64 * 1024
ACTIONS = {"prepare": Op.PREPARE, "commit": Op.COMMIT, "abort": Op.ABORT}
GRAPH_ROWS = 200

env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, trim_blocks=True,
                  lstrip_blocks=True)


def resource_href(rid: str) -> str:
    return "/resources/" + quote(rid.lstrip("/"), safe="/")


def unit_href(ref: UnitRef) -> str:
    if ref.service:
        return f"/units/{ref.kind.value}/{quote(ref.service, safe='')}/{quote(ref.name, safe='')}"
    return f"/units/{ref.kind.value}/{quote(ref.name, safe='')}"


env.globals.update(resource_href=resource_href, unit_href=unit_href)


class Console:
    def __init__(self) -> None:
        self.secret = security.Secret()
        self.cache = console.ConsoleCache()

    # ---------------------------------------------------------------- rendering

    def page(self, name: str, status: int = 200, viewer: Viewer | None = None, **values: Any) -> HTMLResponse:
        html = env.get_template(name).render(viewer=viewer, csrf=viewer.csrf if viewer else "", **values)
        return HTMLResponse(html, status_code=status, headers=security.HEADERS)

    def signin(self, request: Request, reason: str = "", status: int = 401) -> HTMLResponse:
        target = request.url.path if request.method == "GET" else "/"
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        return self.page("signin.html", status, reason=reason, next=target)

    def guarded(self, handler: Callable[[Request, Viewer], Awaitable[Response]], write: bool = False
                ) -> Callable[[Request], Awaitable[Response]]:
        """Signed in (else the sign-in page, nothing else), CSRF-checked when `write`, ServiceErrors as pages."""

        async def run(request: Request) -> Response:
            try:
                v = await anyio.to_thread.run_sync(security.viewer, request, self.secret)
            except SignInRequired as exc:
                return self.signin(request, exc.reason)
            except Exception as exc:
                down = store_unavailable(exc)  # the database failing (gone, read-only, full…): 503 with the reason
                if down is None:
                    raise
                return self.page("error.html", 503, title=down.code, message=down.message)
            try:
                if write:
                    form = await read_form(request)
                    if not security.csrf_ok(v, form.get(security.CSRF_FIELD)):
                        code, text = t.CONSOLE_CSRF.render()
                        return self.page("error.html", 403, v, title=code, message=text)
                    request.state.form = form
                return await handler(request, v)
            except ServiceError as exc:
                return self.page("error.html", exc.http_status if 400 <= exc.http_status < 600 else 400, v,
                                 title=exc.code, message=exc.message, back=_back(request))
            except Exception as exc:
                down = store_unavailable(exc)
                if down is None:
                    raise
                return self.page("error.html", 503, v, title=down.code, message=down.message)

        return run

    # ---------------------------------------------------------------- sign-in

    async def signin_get(self, request: Request) -> Response:
        return self.signin(request, status=200)

    async def signin_post(self, request: Request) -> Response:
        try:
            form = await read_form(request)
            token = (form.get("token") or "").strip()
            who = await anyio.to_thread.run_sync(credentials.verify_token, request.app.state.ctx, token)
        except ServiceError as exc:
            return self.page("signin.html", exc.http_status, reason=exc.message, next="/")
        except Exception as exc:
            down = store_unavailable(exc)
            if down is None:
                raise
            return self.page("error.html", 503, title=down.code, message=down.message)
        if who is None:
            return self.page("signin.html", 401, reason=t.CONSOLE_BAD_TOKEN.text(), next="/")
        target = form.get("next") or "/"
        if not target.startswith("/") or target.startswith(("//", "/\\")) or any(ch < " " for ch in target):
            target = "/"  # never redirect off this server
        response = RedirectResponse(target, status_code=303, headers=security.HEADERS)
        response.set_cookie(security.COOKIE, token, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
        return response

    async def signout(self, request: Request, v: Viewer) -> Response:
        response = RedirectResponse("/signin", status_code=303, headers=security.HEADERS)
        response.delete_cookie(security.COOKIE, path="/", httponly=True, samesite="strict")
        return response

    # ---------------------------------------------------------------- pages

    async def overview(self, request: Request, v: Viewer) -> Response:
        q = request.query_params
        query = console.OverviewQuery(kind=q.get("kind") or None, state=q.get("state") or None,
                                      search=q.get("q") or None, page=_int(q.get("page"), "page", 1),
                                      per_page=_int(q.get("per_page"), "per_page", console.PAGE_SIZE))
        ov = await anyio.to_thread.run_sync(console.overview, v.ctx, query, self.cache)
        return self.page("overview.html", viewer=v, ov=ov, query=query, kinds=console.KINDS)

    def _ref(self, request: Request) -> UnitRef:
        kind = str(request.path_params["kind"])
        rest = str(request.path_params["name"])  # (decoded: a name of imported files may hold a '/')
        if kind == "deployment":
            service, _, name = rest.partition("/")
            return console.unit_ref(kind, name, service)
        return console.unit_ref(kind, rest)

    async def unit(self, request: Request, v: Viewer, **extra: Any) -> Response:
        ref = self._ref(request)
        page = _int(request.query_params.get("page"), "page", 1)
        view = await anyio.to_thread.run_sync(console.unit_view, v.ctx, ref, page)
        return self.page("unit.html", viewer=v, u=view, href=unit_href(ref), charts=svg.timelines(view), **extra)

    async def unit_live(self, request: Request, v: Viewer) -> Response:
        ref = self._ref(request)
        view = await anyio.to_thread.run_sync(console.unit_view, v.ctx, ref)
        return self.page("unit_live.html", viewer=v, u=view, href=unit_href(ref))

    async def validate(self, request: Request, v: Viewer) -> Response:
        ref = self._ref(request)
        result = await anyio.to_thread.run_sync(migration.validate, v.ctx, ref)
        return await self.unit(request, v, validated=result,
                               advice=[console._advice(m) for m in result.messages])

    async def action(self, request: Request, v: Viewer) -> Response:
        ref = self._ref(request)
        name = str(request.path_params["action"])
        op = ACTIONS.get(name)
        if op is None:
            raise ServiceError(*t.CONSOLE_BAD_ACTION.render(action=name[:40], actions=", ".join(ACTIONS)), 404)
        if op == Op.COMMIT and (request.state.form.get("confirm") or "").strip().lower() != "yes":
            raise ServiceError(*t.CONSOLE_NOT_CONFIRMED.render(), 400)
        view = await anyio.to_thread.run_sync(migration.start, v.ctx, op, ref)
        task = BackgroundTask(migration.run, v.ctx, view.id) if view.status == "InProgress" else None
        return RedirectResponse(unit_href(ref) + f"?operation={view.id}", status_code=303, headers=security.HEADERS,
                                background=task)

    async def fix(self, request: Request, v: Viewer) -> Response:
        ref = self._ref(request)
        form = request.state.form
        name = (form.get("fix") or "").strip()
        if not name:
            raise ServiceError(*t.CONSOLE_NO_FIX.render(), 400)
        fix_service.resolve(name)
        dry = form.get("apply") != "1"
        report = await anyio.to_thread.run_sync(lambda: fix_service.run(v.ctx, [name], unit=ref, dry_run=dry))
        return await self.unit(request, v, fixed=report, fix_name=name)

    async def resource(self, request: Request, v: Viewer) -> Response:
        rid = "/" + _raw_rest(request, "/resources/").lstrip("/")
        view = await anyio.to_thread.run_sync(console.resource_view, v.ctx, rid)
        xml = await _asm_xml(request, v, view.id) if view.model == "classic" else None
        return self.page("resource.html", viewer=v, r=view, json=_pretty, xml=xml)

    async def graph(self, request: Request, v: Viewer) -> Response:
        from ..graph import endpoint as graph

        text = (request.query_params.get("q") or "").strip()
        result: dict[str, Any] | None = None
        error: str | None = None
        if text:
            body = {"query": text, "options": {"resultFormat": "table", "$top": GRAPH_ROWS}}
            try:
                result = await anyio.to_thread.run_sync(graph.query, v.ctx, v.subscription_id, body)
            except graph.GraphRequestError as exc:
                error = "; ".join(d["message"] for d in exc.details[1:]) or exc.message
        return self.page("graph.html", viewer=v, q=text, result=result, error=error, json=_pretty,
                         limit=GRAPH_ROWS)

    async def static(self, request: Request) -> Response:
        path = STATIC_FILES.get(str(request.path_params["name"]))
        if path is None:
            return Response("not found", 404, headers=security.HEADERS, media_type="text/plain")
        return FileResponse(path, headers={**security.HEADERS, "cache-control": "max-age=3600"})


async def _asm_xml(request: Request, v: Viewer, asm_path: str) -> str | None:
    """A classic resource as the Service Management API answers GET of its path (the same app, in process, with
    the viewer's credential): its ASM XML, or None where ASM has no GET for it (a VNet site, a disk's parent…)."""
    if not asm_path.lower().startswith(f"/{v.subscription_id.lower()}/"):
        return None
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.internal") as client:
        r = await client.get(asm_path, headers={"Authorization": f"Bearer {v.token}", "x-ms-version": NEWEST})
    if r.status_code != 200 or "xml" not in r.headers.get("content-type", ""):
        return None
    return r.text


def _back(request: Request) -> str | None:
    """Where an action's refusal page links back to: the unit's page (the raw path, still %-escaped)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1").split("?", 1)[0] if isinstance(raw, bytes) else request.url.path
    if request.method != "POST" or not path.startswith("/units/"):
        return None
    return re.sub(r"/(validate|fix|actions/[^/]*)$", "", path)


def _raw_rest(request: Request, prefix: str) -> str:
    """The path after `prefix`, percent-decoded once: resource ids keep their own %-escapes (a classic name
    with a '/' or a '<' is stored escaped), which the router's decoded path params would have lost."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        path = raw.decode("latin-1").split("?", 1)[0]
        if path.lower().startswith(prefix):
            return unquote(path[len(prefix):])
    return str(request.path_params.get("rid", ""))


def _pretty(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _int(text: str | None, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ServiceError(*t.CONSOLE_BAD_NUMBER.render(name=name, text=text[:20]), 400) from None


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form (the console's only kind), each field's first value; a body over 64 KiB is refused."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise ServiceError(*t.CONSOLE_FORM_TOO_LARGE.render(kib=MAX_FORM // 1024), 413)
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise ServiceError(*t.CONSOLE_BAD_FORM.render(), 400) from None
    return {k: v[0] for k, v in fields.items()}


def routes(c: Console) -> list[Route]:
    unit = "/units/{kind}/{name:path}"
    return [
        Route("/", c.guarded(c.overview), methods=["GET", "HEAD"]),
        Route("/signin", c.signin_get, methods=["GET", "HEAD"]),
        Route("/signin", c.signin_post, methods=["POST"]),
        Route("/signout", c.guarded(c.signout, write=True), methods=["POST"]),
        Route("/static/{name}", c.static, methods=["GET", "HEAD"]),
        Route("/graph", c.guarded(c.graph), methods=["GET", "HEAD"]),
        Route("/resources/{rid:path}", c.guarded(c.resource), methods=["GET", "HEAD"]),
        Route(unit + "/live", c.guarded(c.unit_live), methods=["GET", "HEAD"]),
        Route(unit + "/validate", c.guarded(c.validate, write=True), methods=["POST"]),
        Route(unit + "/fix", c.guarded(c.fix, write=True), methods=["POST"]),
        Route(unit + "/actions/{action}", c.guarded(c.action, write=True), methods=["POST"]),
        Route(unit, c.guarded(c.unit), methods=["GET", "HEAD"]),
    ]


def install(app: ASGIApp) -> None:
    """Put the console's routes first: `/signin`, `/graph` would otherwise be taken for ASM subscription ids."""
    router = getattr(app, "router")  # noqa: B009 - FastAPI and Starlette both expose .router
    router.routes[:0] = routes(Console())
