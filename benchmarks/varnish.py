"""Varnish in front of the demo: hit ratio, leaks and throughput against the origin alone.

Usage: ``python -m benchmarks.varnish [--requests 1000] [--clients 8]``.
Needs Debian's ``varnishd`` and gunicorn (``pip install -e ".[dev,load]"``); the origin runs the
demo's settings on a throw-away SQLite file, with the page cache off (Varnish caches).

A page with three personalized blocks (by device, by country, by channel) gives 24 decision
combinations; mixed anonymous visitors (devices, countries through the CDN header, referrers)
request it through Varnish after one warm-up pass. Every response is compared with what the
origin gives the same visitor directly (a leak is any difference), and the same workload is then
timed through Varnish and against the origin alone, with the same number of concurrent clients.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VCL = ROOT / "docs" / "how-to" / "personalize.vcl"
PAGE = "/journal/varnish-benchmark/"
AGENTS = {
    "mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "tablet": "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
}
COUNTRIES = ["AT", "DE", "CH", "US", "FR", "GB"]
REFERRERS = ["", "https://www.google.com/", "https://www.facebook.com/", "https://news.example/"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def _setup(env: dict[str, str]) -> None:
    """Migrate, seed the demo and publish the benchmark page (in a child process)."""
    code = """
import io, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", stdout=io.StringIO())
from cms_site.home.models import ContentPage
from personalize.models import Segment

def segment(name, condition):
    obj = Segment(name=name, slug=name.lower().replace(" ", "-"), condition=condition)
    obj.full_clean(); obj.save(); return obj.pk

def block(key, variants):
    return {"type": "personalized", "value": {"key": key * 32, "default": [
        {"type": "paragraph", "value": "<p>For everyone.</p>"}], "variants": [
        {"label": label, "segments": [sid], "key": f"{key}{n}".ljust(32, "0"),
         "content": [{"type": "paragraph", "value": f"<p>{label}.</p>"}]}
        for n, (label, sid) in enumerate(variants)]}}

device = [(f"Bench {d}", segment(f"Bench {d}", {"device.type": d})) for d in ("mobile", "tablet")]
country = [(f"Bench {c}", segment(f"Bench {c}", {"geo.country": c})) for c in ("AT", "DE", "CH")]
channel = [("Bench search", segment("Bench search", {"referral.channel": "organic_search"}))]
body = [block("a", device), block("b", country), block("c", channel)]
journal = ContentPage.objects.get(slug="journal")
page = ContentPage(title="Varnish benchmark", slug="varnish-benchmark", body=body)
journal.add_child(instance=page)
page.save_revision().publish()
"""
    subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True
    )


def _fetch(url: str, headers: dict[str, str]) -> tuple[str, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local URL
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.headers.get("X-Cache", ""), response.read()


def _workload(count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload
    visitors = []
    for _ in range(count):
        headers = {
            "User-Agent": AGENTS[rng.choice(list(AGENTS))],
            "CF-IPCountry": rng.choice(COUNTRIES),
        }
        referer = rng.choice(REFERRERS)
        if referer:
            headers["Referer"] = referer
        visitors.append(headers)
    return visitors


def _timed(base: str, workload: list[dict[str, str]], clients: int) -> float:
    """Requests per second for the workload with ``clients`` concurrent clients."""
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda headers: _fetch(base + PAGE, headers), workload))
    return len(workload) / (time.perf_counter() - start)


def run(requests: int, clients: int) -> list[str]:
    """Run the benchmark and return the result lines."""
    varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if not os.path.exists(varnishd) or gunicorn is None:
        raise SystemExit("needs varnishd (apt-get install varnish) and gunicorn (the load extra)")
    work = Path(tempfile.mkdtemp(prefix="personalize-varnish-"))
    origin_port, varnish_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms_site.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "benchmark-only",
        "SQLITE_PATH": str(work / "db.sqlite3"),
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.pop("VARNISH_URL", None)
    _setup(env)
    # Varnish does the caching: the origin only says what may be shared, and purges on publish.
    env["VARNISH_URL"] = f"http://127.0.0.1:{varnish_port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        origin = subprocess.Popen(  # noqa: S603
            [gunicorn, "cms_site.wsgi", "-b", f"127.0.0.1:{origin_port}", "-w", "2",
             "--threads", "4", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(origin)
        _wait(origin_port, origin, "gunicorn")
        vcl = work / "site.vcl"
        vcl.write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{origin_port}";'))
        varnish = subprocess.Popen(  # noqa: S603
            [varnishd, "-F", "-j", "none", "-n", str(work / "varnish"), "-f", str(vcl),
             "-a", f"127.0.0.1:{varnish_port}", "-s", "malloc,128m"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(varnish)
        _wait(varnish_port, varnish, "varnishd")
        return _measure(
            f"http://127.0.0.1:{origin_port}", f"http://127.0.0.1:{varnish_port}", requests, clients
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def _measure(origin: str, varnish: str, requests: int, clients: int) -> list[str]:
    combos = {(a, c, r) for a in AGENTS.values() for c in COUNTRIES for r in REFERRERS}
    warm = [
        {"User-Agent": a, "CF-IPCountry": c, **({"Referer": r} if r else {})}
        for a, c, r in sorted(combos)
    ]
    for headers in warm:
        _fetch(varnish + PAGE, headers)
    workload = _workload(requests, seed=2026)
    leaks, hits, keys = 0, 0, set()
    for headers in workload:
        cache, body = _fetch(varnish + PAGE, headers)
        _, direct = _fetch(origin + PAGE, headers)
        leaks += body != direct
        hits += cache == "hit"
        keys.add(_key(origin, headers))
    through_varnish = _timed(varnish, workload, clients)
    origin_alone = _timed(origin, workload, clients)
    return [
        "## Varnish in front of the demo",
        "",
        f"{requests} requests of mixed anonymous visitors (3 devices, 6 countries, 4 referrers) "
        f"over {len(keys)} decision keys, after one warm-up request per combination; the VCL of "
        f"docs/how-to/cdn.md; the origin is the demo under gunicorn (2 workers × 4 threads, "
        f"SQLite); {clients} concurrent clients.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| hit ratio | {hits / requests:.1%} |",
        f"| responses different from the origin's for the same visitor | {leaks} |",
        f"| throughput through Varnish (requests/s) | {through_varnish:.0f} |",
        f"| throughput of the origin alone (requests/s) | {origin_alone:.0f} |",
        f"| Varnish ÷ origin | {through_varnish / origin_alone:.2f}× |",
    ]


def _key(origin: str, headers: dict[str, str]) -> str:
    request = urllib.request.Request(  # noqa: S310 - a local URL
        origin + PAGE, headers={**headers, "X-Personalize-Preflight": "1"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(response.headers.get("X-Personalize-Key", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    print("\n".join(run(args.requests, args.clients)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

