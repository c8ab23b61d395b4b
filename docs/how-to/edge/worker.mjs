// A Cloudflare Worker in front of a site that uses wagtail-personalize (docs/how-to/edge.md):
// it decides the edge segments and passes them to the site in a request header.
// Set PERSONALIZE_ORIGIN (the CMS) and PERSONALIZE_FRONTEND_KEY (a secret) in the Worker's settings.
import { evalCondition } from "@growthbook/growthbook";
import { cookieReader, edgeAttributes, matchingSegments } from "./attributes.mjs";
import { loadManifest } from "./manifest.mjs";

export default {
  async fetch(request, env) {
    const manifest = await loadManifest({
      origin: env.PERSONALIZE_ORIGIN,
      key: env.PERSONALIZE_FRONTEND_KEY,
    });
    const forwarded = new Request(request);
    forwarded.headers.delete("X-Edge-Segments"); // never trust a visitor's own copy
    if (manifest) {
      const cf = request.cf ?? {};
      const attributes = edgeAttributes(manifest, {
        url: request.url,
        geo: {
          country: cf.country, region: cf.regionCode, city: cf.city,
          continent: cf.continent, timezone: cf.timezone,
        },
        cookie: cookieReader(request.headers.get("Cookie")),
        gpc: request.headers.get("Sec-GPC"),
      });
      const { matched } = matchingSegments(manifest, attributes, evalCondition);
      forwarded.headers.set("X-Edge-Segments", matched.join(","));
    }
    return fetch(forwarded);
  },
};
