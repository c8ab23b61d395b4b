// Evaluates the edge manifest with GrowthBook's JavaScript SDK, for tests/test_edge_differential.py.
//
// Reads one JSON object from stdin: {manifest, requests: [...], attributes: [...]}.
// - requests: raw edge inputs ({url, geo, cookie, gpc, now}; cookie is the Cookie header); each is
//   typed with the module the docs show (docs/how-to/edge/attributes.mjs) and evaluated;
// - attributes: typed attribute objects, evaluated as they are.
// Writes {requests: [{attributes, matched}], attributes: [matched]} to stdout (slugs).
import { readFileSync } from "node:fs";
import { evalCondition } from "@growthbook/growthbook";
import { cookieReader, edgeAttributes, matchingSegments } from "../../docs/how-to/edge/attributes.mjs";

const { manifest, requests, attributes } = JSON.parse(readFileSync(0, "utf8"));
const requestResults = requests.map((raw) => {
  const typed = edgeAttributes(manifest, {
    url: raw.url,
    geo: raw.geo,
    cookie: cookieReader(raw.cookie),
    gpc: raw.gpc,
    now: new Date(raw.now),
  });
  return { attributes: typed, matched: matchingSegments(manifest, typed, evalCondition).matched };
});
const attributeResults = attributes.map(
  (typed) => matchingSegments(manifest, typed, evalCondition).matched,
);
process.stdout.write(JSON.stringify({ requests: requestResults, attributes: attributeResults }));
