// Typed visitor attributes for wagtail-personalize's edge manifest (docs/how-to/edge.md).
//
// GrowthBook's JavaScript SDK compares loosely ("5" == 5, null < 10); the engine at the origin
// compares strictly. The manifest's conditions are rewritten to compare strictly, and this module
// builds the attributes exactly as the origin does, so that both give the same answers:
//
// - numbers are numbers (time.hour is 9, never "9"); booleans are booleans (gpc);
// - codes are normalized as at the origin (geo.country "DE", geo.region "DE-BY");
// - dates and times are strings in the origin's format (time.date "2026-12-07", time.time "09:05");
// - an unknown value is null, never undefined and never "" (the SDK's $eq: null and $type: "null"
//   tell undefined from null; the origin does not have undefined);
// - only the attributes the manifest marks "edge": true are built; segments that read anything
//   else are marked "edge": false in the manifest and are left to the origin.
//
// The module has no dependencies. It runs in Node 18+, Next.js middleware (edge runtime),
// Cloudflare Workers and Deno.

const CONTINENTS = new Set(["AF", "AN", "AS", "EU", "NA", "OC", "SA"]);
const PURPOSES = ["necessary", "personalization", "analytics"];
const ZONE_NAME = /^[A-Za-z0-9_+\-]+(?:\/[A-Za-z0-9_+\-]+)*$/;
const SUBDIVISION = /^[A-Z0-9]{1,3}$/;
const PYTHON_FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const WEEKDAYS = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const MAX_TEXT = 200;
const zoneCache = new Map();
const clocks = new Map();

/** Length in code points, as Python counts. */
function length(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** The first `limit` code points. */
function cut(text, limit) {
  return length(text) <= limit ? text : Array.from(text).slice(0, limit).join("");
}

/** An IANA zone name the origin accepts too, else null. */
export function validTimezone(name) {
  if (typeof name !== "string") return null;
  const candidate = name.trim();
  if (candidate.length > 64 || !ZONE_NAME.test(candidate)) return null;
  if (!zoneCache.has(candidate)) {
    let valid = false;
    try {
      const resolved = new Intl.DateTimeFormat("en-US", { timeZone: candidate }).resolvedOptions()
        .timeZone;
      // Intl ignores case; the origin's zone database does not.
      valid = resolved === candidate || candidate.split("/").every((part) => /^[A-Z]/.test(part));
    } catch {
      valid = false;
    }
    if (zoneCache.size > 1000) zoneCache.clear();
    zoneCache.set(candidate, valid);
  }
  return zoneCache.get(candidate) ? candidate : null;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The length of the valid UTF-8 sequence at `bytes[start]`, or 0. */
function sequence(bytes, start) {
  const lead = bytes[start];
  if (lead < 0x80) return 1;
  const size = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3
    : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (size === 0 || start + size > bytes.length) return 0;
  try {
    UTF8.decode(bytes.subarray(start, start + size));
    return size;
  } catch {
    return 0;
  }
}

/**
 * Percent-decoding as the origin does it. "strict" (a CDN's header, like Python's
 * `unquote(errors="strict")`): null when the escapes are not UTF-8. "path" (like Django's
 * request.path): bytes that are not UTF-8 stay escaped, in upper case. A "%" not followed by two
 * hex digits stays as it is.
 */
function percentDecode(text, mode) {
  let broken = false;
  const decoded = text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    const bytes = Uint8Array.from(run.match(/%../g), (escape) => parseInt(escape.slice(1), 16));
    let out = "";
    for (let index = 0; index < bytes.length; ) {
      const size = sequence(bytes, index);
      if (size === 0) {
        broken = true;
        out += `%${bytes[index].toString(16).toUpperCase().padStart(2, "0")}`;
        index += 1;
      } else {
        out += UTF8.decode(bytes.subarray(index, index + size));
        index += size;
      }
    }
    return out;
  });
  return mode === "strict" && broken ? null : decoded;
}

/** Undo the encodings CDNs apply to non-ASCII header values (percent, \u00XX, raw UTF-8). */
function decodeText(value) {
  if (value.includes("%")) {
    value = percentDecode(value, "strict");
    if (value === null) return null;
  }
  value = value.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  if (/^[\u0000-\u00ff]*$/.test(value)) {
    const bytes = Uint8Array.from(value, (char) => char.charCodeAt(0));
    try {
      return UTF8.decode(bytes);
    } catch {
      return value;
    }
  }
  return value;
}

const SPACE = /[\t\n\v\f\r\x1c-\x1f\x85\p{Zs}\p{Zl}\p{Zp}]/gu;
const INVISIBLE = /\p{C}/gu;

function city(value) {
  if (typeof value !== "string") return null;
  const decoded = decodeText(value);
  if (decoded === null) return null;
  const text = decoded.replace(SPACE, " ").replace(INVISIBLE, "").split(" ").filter(Boolean).join(" ");
  return !text || text === "?" || length(text) > 100 ? null : text;
}

/**
 * The geo.* attributes from the CDN's location fields (raw strings or null), read as the origin
 * reads a CDN's geo headers: without a known country, everything is unknown.
 *
 * @param {{country?, region?, city?, continent?, timezone?}} raw e.g. Vercel's `geolocation(request)`
 *   or Cloudflare's `request.cf` ({country, regionCode, city, continent, timezone}).
 * @param {Object<string,string>} continents the manifest's `continents` table.
 */
export function geoAttributes(raw, continents) {
  const text = (value) => (typeof value === "string" && length(value) <= 512 ? value : null);
  const code = text(raw.country)?.trim().toUpperCase() ?? null;
  const country = code !== null && Object.hasOwn(continents, code) ? code : null;
  if (country === null) {
    return { country: null, region: null, city: null, continent: null, timezone: null };
  }
  let region = null;
  const regionText = text(raw.region);
  if (regionText !== null) {
    let part = regionText.trim().toUpperCase();
    const dash = part.indexOf("-");
    if (dash >= 0) part = part.slice(0, dash) === country ? part.slice(dash + 1) : "";
    region = SUBDIVISION.test(part) ? `${country}-${part}` : null;
  }
  const continent = text(raw.continent)?.trim().toUpperCase() ?? null;
  return {
    country,
    region,
    city: city(text(raw.city)),
    continent: CONTINENTS.has(continent) ? continent : continents[country],
    timezone: validTimezone(text(raw.timezone)),
  };
}

/** The time.* attributes: `now` on the wall clock of the first valid zone. */
export function timeAttributes(now, zones, fallback = "UTC") {
  const zone = zones.map(validTimezone).find((name) => name !== null) ?? validTimezone(fallback) ?? "UTC";
  if (!clocks.has(zone)) {
    // Building a formatter is slow; each zone's is kept (only valid zone names get here).
    if (clocks.size > 1000) clocks.clear();
    clocks.set(zone, new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", weekday: "short",
    }));
  }
  const parts = {};
  for (const { type, value } of clocks.get(zone).formatToParts(now)) parts[type] = value;
  return {
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday],
    month: Number(parts.month),
    date: `${parts.year.padStart(4, "0")}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}`,
    timezone: zone,
  };
}

/** The query.* attributes: the last value of each parameter, bounded as at the origin. */
export function queryAttributes(search, limit) {
  const last = new Map();
  for (const [name, value] of new URLSearchParams(search)) last.set(name, value);
  const query = {};
  let count = 0;
  for (const [name, value] of last) {
    if (count >= limit) break;
    if (length(name) <= MAX_TEXT) {
      // defineProperty: a parameter named __proto__ is a plain key, as at the origin.
      Object.defineProperty(query, name, {
        value: cut(value, MAX_TEXT), enumerable: true, writable: true, configurable: true,
      });
      count += 1;
    }
  }
  return query;
}

/** The consent attribute from the consent cookie, the Sec-GPC header and the consent mode. */
export function consentAttributes(cookie, gpcHeader, mode) {
  const gpc = typeof gpcHeader === "string" && gpcHeader.trim() === "1";
  let granted = null;
  if (typeof cookie === "string" && cookie && length(cookie) <= 200) {
    const parts = cookie.split(":");
    const at = parts.length === 3 ? parts[2].trim() : "";
    if (parts[0] === "v1" && PYTHON_FLOAT.test(at)) {
      const moment = Number(at.replaceAll("_", ""));
      if (moment >= 0 && moment < 1e11) granted = new Set(["necessary", ...parts[1].split(",")]);
    }
  }
  if (granted === null) granted = new Set(mode === "opt-out" && !gpc ? PURPOSES : ["necessary"]);
  return { consent: PURPOSES.filter((purpose) => granted.has(purpose)), gpc };
}

// What Python's str.strip() removes.
const PYTHON_SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const STRIP = new RegExp(`^${PYTHON_SPACE}+|${PYTHON_SPACE}+$`, "g");

/** A quoted cookie value unquoted as Python's http.cookies does ("a\\054b" is "a,b"). */
function unquote(value) {
  if (value.length < 2 || value[0] !== '"' || value[value.length - 1] !== '"') return value;
  return value.slice(1, -1).replace(/\\(?:([0-3][0-7][0-7])|([^\n]))/g,
    (_, octal, char) => (octal ? String.fromCharCode(parseInt(octal, 8)) : char));
}

/**
 * Reads cookies from a raw Cookie header exactly as Django does (django.http.cookie.parse_cookie):
 * quoted values are unquoted (Django writes the consent cookie as "v1:necessary\\054analytics:…"),
 * nothing is percent-decoded, and of two cookies with one name the last counts. Frameworks'
 * own cookie readers (Next.js's request.cookies) percent-decode and keep the quotes: use this.
 *
 * @param {string|null} header the request's Cookie header.
 * @returns {(name: string) => string|null} reads one cookie's value.
 */
export function cookieReader(header) {
  const jar = new Map();
  for (const chunk of (header ?? "").split(";")) {
    const equals = chunk.indexOf("=");
    const key = (equals >= 0 ? chunk.slice(0, equals) : "").replace(STRIP, "");
    const value = (equals >= 0 ? chunk.slice(equals + 1) : chunk).replace(STRIP, "");
    if (key || value) jar.set(key, unquote(value));
  }
  return (name) => (jar.has(name) ? jar.get(name) : null);
}

/** The URL's path, percent-decoded as Django decodes request.path. */
export function pagePath(pathname) {
  return percentDecode(pathname, "path");
}

/**
 * Every attribute the edge computes, typed as the manifest's contract says.
 *
 * @param {object} manifest the manifest from /personalize/manifest.json.
 * @param {object} request
 * @param {URL|string} request.url the URL the visitor asked for.
 * @param {object} [request.geo] the CDN's location: {country, region, city, continent, timezone}.
 * @param {(name: string) => string|null|undefined} [request.cookie] reads a cookie: use
 *   cookieReader(the Cookie header), which reads them as the origin does.
 * @param {string|null} [request.gpc] the Sec-GPC header.
 * @param {Date} [request.now] the current time.
 */
export function edgeAttributes(manifest, { url, geo = {}, cookie = () => null, gpc = null, now = new Date() }) {
  const parsed = typeof url === "string" ? new URL(url, "http://edge.invalid") : url;
  const geoValues = geoAttributes(geo, manifest.continents);
  const tzCookie = cookie(manifest.cookies.timezone) ?? null;
  const consent = consentAttributes(cookie(manifest.cookies.consent) ?? null, gpc, manifest.consent_mode);
  return {
    geo: geoValues,
    time: timeAttributes(now, [geoValues.timezone, tzCookie], manifest.time_zone),
    query: queryAttributes(parsed.search, manifest.query_parameter_limit),
    page: { path: pagePath(parsed.pathname) },
    consent: consent.consent,
    gpc: consent.gpc,
  };
}

/**
 * The manifest's segments for a visitor: which edge segments match, and which only the origin
 * can decide.
 *
 * @param {object} manifest the manifest.
 * @param {object} attributes from edgeAttributes().
 * @param {Function} evalCondition GrowthBook's: `import { evalCondition } from "@growthbook/growthbook"`.
 * @returns {{matched: string[], originOnly: string[]}} segment slugs, in the manifest's order.
 */
export function matchingSegments(manifest, attributes, evalCondition) {
  const matched = [];
  const originOnly = [];
  for (const segment of manifest.segments) {
    if (!segment.edge) originOnly.push(segment.slug);
    else if (evalCondition(attributes, segment.condition)) matched.push(segment.slug);
  }
  return { matched, originOnly };
}
