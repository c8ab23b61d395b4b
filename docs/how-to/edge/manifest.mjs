// Fetching wagtail-personalize's edge manifest, kept in memory and revalidated by ETag
// (docs/how-to/edge.md). No dependencies; runs wherever `fetch` does.

let cached = null; // {manifest, etag, checkedAt}

/**
 * The manifest, fetched at most every `maxAgeMs` (a 304 costs the origin almost nothing).
 *
 * @param {object} options
 * @param {string} options.origin the CMS's base URL, e.g. "https://cms.example.com".
 * @param {string} options.key a key from PERSONALIZE["FRONTEND_KEYS"] (keep it secret).
 * @param {number} [options.maxAgeMs] how long a fetched manifest is used without asking.
 * @returns {Promise<object|null>} the manifest; the last good one if the origin fails; null if
 *   there has never been one.
 */
export async function loadManifest({ origin, key, maxAgeMs = 30_000 }) {
  const now = Date.now();
  if (cached && now - cached.checkedAt < maxAgeMs) return cached.manifest;
  const headers = { "X-Personalize-Frontend-Key": key };
  if (cached) headers["If-None-Match"] = cached.etag;
  try {
    const response = await fetch(new URL("/personalize/manifest.json", origin), { headers });
    if (response.status === 304 && cached) {
      cached.checkedAt = now;
    } else if (response.ok) {
      cached = { manifest: await response.json(), etag: response.headers.get("ETag"), checkedAt: now };
    } else if (cached) {
      cached.checkedAt = now; // 403, 429, 503: keep deciding with the last good manifest
    }
  } catch {
    if (cached) cached.checkedAt = now;
  }
  return cached ? cached.manifest : null;
}
