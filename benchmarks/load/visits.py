"""The visitor classes of the mixed workload, and one visit of each.

A visit is a short sequence of requests by one visitor. Every class but bots and editors is
counted by the package: each delivered page (status 200) counts one impression per
personalized block (:mod:`.site_map`), each GraphQL page one per personalized block in the
answer. Bots (``…bot/<version>`` user agents) and editors viewing a page as a segment
(``?pz_view_as=``) count nothing; previews are not part of the workload.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.load.browser import Browser
from benchmarks.load.recorder import Recorder
from benchmarks.workload import COUNTRIES, USER_AGENTS

MOBILE_AGENTS = USER_AGENTS[:2]
DESKTOP_AGENTS = [USER_AGENTS[2], USER_AGENTS[3], USER_AGENTS[5]]
BOT_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
]
CAMPAIGNS = [
    "?utm_source=google&utm_medium=cpc&utm_campaign=winter",
    "?gclid=load-test-click",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly",
    "?utm_source=facebook&utm_medium=social",
]
DACH = ["DE", "AT", "CH"]
EVENTS = [
    {"name": "demo_request", "target": "fitting", "tags": ["ski-touring"]},
    {"name": "newsletter_signup", "target": "footer", "tags": []},
    {"name": "video_play", "target": "intro", "tags": ["skiing"]},
]
VIEW_AS = ["dach", "mobile-visitors", "paid-search", "-"]
EDITOR = ("admin", "admin-demo")
GRAPHQL_PAGE = (
    "query ($path: String) { page(path: $path) { id title pageType "
    'streamfield(name: "body") { type ... on PersonalizedBlock { decision { variant reason '
    "alternative holdout } blocks { type value } } } } }"
)
#: The page only the counting probes request (:mod:`.probes`): its impression counters tell
#: whether each probe was counted.
PROBE_PAGE = "/try-it/"
#: How many returning visitors (with their cookies) are kept for later visits.
RETURNING_POOL = 60


def graphql_impressions(content: bytes) -> int:
    """Personalized blocks delivered in a GraphQL page answer (each counts one impression)."""
    try:
        answer = json.loads(content)
        blocks = answer["data"]["page"]["streamfield"]
    except (ValueError, KeyError, TypeError):
        return 0
    if answer.get("errors"):
        return 0
    return sum(1 for block in blocks if isinstance(block, dict) and "decision" in block)


@dataclass
class VisitContext:
    """What every visit shares: the session, the site, the clock and the returning visitors."""

    session: aiohttp.ClientSession
    base: str
    recorder: Recorder
    site: dict[str, Any]
    #: the end of the workload on the recorder's clock
    until: float
    #: mean think time after a page or call (:attr:`.config.RunConfig.think`)
    think: float = 0.0
    returning: list[Browser] = field(default_factory=list)
    editor: Browser | None = None
    editor_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: failed editor logins (after three, editors stop trying)
    editor_failures: int = 0

    def open(self) -> bool:
        """Whether new requests may still start."""
        return self.recorder.now() < self.until

    async def pause(self, rng: random.Random) -> None:
        """The visitor reads for a moment (never past the end of the workload)."""
        delay = min(rng.uniform(0.5, 1.5) * self.think, self.until - self.recorder.now())
        if delay > 0:
            await asyncio.sleep(delay)

    def browser(self, visitor: str, headers: dict[str, str], counted: bool = True) -> Browser:
        """A new visitor with no cookies."""
        return Browser(self.session, self.base, self.recorder, visitor, headers, counted=counted)

    @property
    def pages(self) -> list[dict[str, Any]]:
        """The pages the workload visits: all but the probes' own (:data:`PROBE_PAGE`)."""
        return [page for page in self.site["pages"] if page["path"] != PROBE_PAGE]

    def pick_page(self, rng: random.Random) -> dict[str, Any]:
        """A page: the home page often, otherwise any of :attr:`pages`."""
        pages = self.pages
        home = [page for page in pages if page["path"] == "/"]
        if home and rng.random() < 0.3:
            return dict(home[0])
        return dict(rng.choice(pages))

    async def page(self, browser: Browser, rng: random.Random, query: str = "") -> int:
        """GET a page as a browser does (and sometimes its stylesheet); returns the status."""
        if not self.open():
            return 0
        page = self.pick_page(rng)
        status, _ = await browser.request(
            "GET",
            page["path"] + query,
            kind="page",
            page_id=page["id"],
            impressions=page["impressions"],
            headers={"Accept": "text/html,application/xhtml+xml"},
        )
        if self.site["static"] and rng.random() < 0.3 and self.open():
            await browser.request("GET", rng.choice(self.site["static"]), kind="static")
        await self.pause(rng)
        return status


async def anonymous(ctx: VisitContext, rng: random.Random) -> None:
    """A first-time desktop visitor without consent: one to three pages."""
    browser = ctx.browser("anonymous", {"User-Agent": rng.choice(DESKTOP_AGENTS)})
    for _ in range(rng.randint(1, 3)):
        await ctx.page(browser, rng)


async def mobile(ctx: VisitContext, rng: random.Random) -> None:
    """A phone: one to three pages."""
    browser = ctx.browser("mobile", {"User-Agent": rng.choice(MOBILE_AGENTS)})
    for _ in range(rng.randint(1, 3)):
        await ctx.page(browser, rng)


async def geo(ctx: VisitContext, rng: random.Random) -> None:
    """A visitor located by the CDN header (``CF-IPCountry``, trusted from loopback)."""
    country = rng.choice(DACH) if rng.random() < 0.5 else rng.choice(COUNTRIES)
    headers = {"User-Agent": rng.choice(USER_AGENTS), "CF-IPCountry": country}
    browser = ctx.browser("geo", headers)
    for _ in range(rng.randint(1, 3)):
        await ctx.page(browser, rng)


async def campaign(ctx: VisitContext, rng: random.Random) -> None:
    """A landing from a campaign link (UTM, gclid), then a page or two without it."""
    browser = ctx.browser("campaign", {"User-Agent": rng.choice(USER_AGENTS)})
    await ctx.page(browser, rng, query=rng.choice(CAMPAIGNS))
    for _ in range(rng.randint(0, 2)):
        await ctx.page(browser, rng)


async def returning(ctx: VisitContext, rng: random.Random) -> None:
    """A consenting visitor: accepts all cookies once, then comes back with them.

    Each visit reads two to five pages and sometimes reports an event.
    """
    if ctx.returning and rng.random() < 0.7:
        browser = ctx.returning.pop(rng.randrange(len(ctx.returning)))
    else:
        browser = ctx.browser("returning", {"User-Agent": rng.choice(USER_AGENTS)})
        if rng.random() < 0.4:
            browser.headers["CF-IPCountry"] = rng.choice(DACH)
        token = browser.with_csrf()
        if ctx.open():
            await browser.request(
                "POST",
                "/personalize/consent/",
                kind="consent",
                data={"choice": "all", "next": "/"},
                headers={"X-CSRFToken": token, "Accept": "application/json"},
            )
    for _ in range(rng.randint(2, 5)):
        await ctx.page(browser, rng)
        if rng.random() < 0.2 and ctx.open():
            await _event(browser, rng)
    if len(ctx.returning) < RETURNING_POOL:
        ctx.returning.append(browser)


async def _event(browser: Browser, rng: random.Random) -> None:
    token = browser.with_csrf()
    await browser.request(
        "POST",
        "/personalize/events/",
        kind="event",
        json=rng.choice(EVENTS),
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


async def beacon(ctx: VisitContext, rng: random.Random) -> None:
    """An event from a visitor without consent (answered ``{"tracked": false}``)."""
    if ctx.open():
        browser = ctx.browser("beacon", {"User-Agent": rng.choice(USER_AGENTS)})
        await _event(browser, rng)


async def graphql(ctx: VisitContext, rng: random.Random) -> None:
    """A front end fetching a page through GraphQL for the requesting browser."""
    if not ctx.open():
        return
    headers = {"User-Agent": rng.choice(USER_AGENTS)}
    if rng.random() < 0.5:
        headers["CF-IPCountry"] = rng.choice(COUNTRIES)
    browser = ctx.browser("graphql", headers)
    page = ctx.pick_page(rng)
    await browser.request(
        "POST",
        "/graphql/",
        kind="graphql",
        page_id=page["id"],
        impressions=graphql_impressions,
        json={"query": GRAPHQL_PAGE, "variables": {"path": page["path"]}},
    )


async def bot(ctx: VisitContext, rng: random.Random) -> None:
    """A crawler: pages only, never counted."""
    browser = ctx.browser("bot", {"User-Agent": rng.choice(BOT_AGENTS)}, counted=False)
    for _ in range(rng.randint(1, 3)):
        await ctx.page(browser, rng)


async def editor(ctx: VisitContext, rng: random.Random) -> None:
    """An editor viewing a live page as a segment (never counted); logs in once per run."""
    browser = await _editor(ctx)
    if browser is None:
        return
    await ctx.page(browser, rng, query=f"?pz_view_as={rng.choice(VIEW_AS)}")


async def _editor(ctx: VisitContext) -> Browser | None:
    async with ctx.editor_lock:
        if ctx.editor is None and ctx.editor_failures < 3 and ctx.open():
            browser = ctx.browser("editor", {"User-Agent": DESKTOP_AGENTS[0]}, counted=False)
            token = browser.with_csrf()
            username, password = EDITOR
            status, _ = await browser.request(
                "POST",
                "/admin/login/",
                kind="login",
                data={
                    "username": username,
                    "password": password,
                    "csrfmiddlewaretoken": token,
                    "next": "/admin/",
                },
                headers={"X-CSRFToken": token},
            )
            if status == 302 and "sessionid" in browser.cookies:
                ctx.editor = browser
            else:
                ctx.editor_failures += 1
    return ctx.editor


Visit = Callable[[VisitContext, random.Random], Awaitable[None]]

#: The visitor classes and their shares of the visits.
CLASSES: list[tuple[str, int, Visit]] = [
    ("anonymous", 20, anonymous),
    ("mobile", 10, mobile),
    ("geo", 12, geo),
    ("campaign", 10, campaign),
    ("returning", 18, returning),
    ("graphql", 14, graphql),
    ("beacon", 4, beacon),
    ("bot", 6, bot),
    ("editor", 4, editor),
]
