"""The seeded site as the load generator needs it: ``python -m benchmarks.load.site_map``.

Runs inside the demo project (``DJANGO_SETTINGS_MODULE=cms_site.settings`` and the scenario's
``DATABASE_URL``) and prints JSON: every live page's path and id, and how many impressions one
delivery of it counts. That is the number of distinct block keys among its personalized blocks
(``personalize.blocks.walk``): a request notes one impression per block key, variant,
alternative and segment, and a visitor gets one variant of each block; blocks without a key
count nothing. It also says whether WhiteNoise serves static files, and which ones the pages
link.
"""

from __future__ import annotations

import json
import os
import sys


def site_map() -> dict[str, object]:
    """The pages, their impressions per delivery, and the static files to fetch."""
    import django

    django.setup()
    from django.conf import settings
    from django.templatetags.static import static
    from wagtail.models import Page

    from personalize.blocks.walk import personalized_blocks

    pages = []
    for page in Page.objects.live().public().specific().order_by("path"):
        url = page.get_url()
        if not url:
            continue
        keys = {key for key, _ in personalized_blocks(page) if key}
        pages.append(
            {"id": page.pk, "path": url, "type": type(page).__name__, "impressions": len(keys)}
        )
    whitenoise = "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
    return {
        "pages": pages,
        "whitenoise": whitenoise,
        "static": [static("css/site.css")] if whitenoise else [],
    }


def main() -> None:
    """Print :func:`site_map` as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms_site.settings")
    json.dump(site_map(), sys.stdout)


if __name__ == "__main__":
    main()
