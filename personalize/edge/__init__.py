"""Rules at the edge: the live segments' conditions for front ends that decide before the origin.

The manifest (served at ``/personalize/manifest.json`` and through GraphQL) carries the
conditions in GrowthBook's language and the contract of the attributes they read, so a Next.js
middleware or a CDN worker evaluates them with GrowthBook's own SDK (docs/how-to/edge.md).
"""
