"""First-party analytics: impressions, conversions, goals, funnels and experiments.

Counting happens while pages are served and must never slow them down or break them, so
counters go to a fast shared store first and reach the database later:

* :mod:`personalize.analytics.store`: the counter store (:func:`~.store.counter_store`), one
  Redis hash of counters per UTC day, per-visitor analytics state and unique-visitor
  HyperLogLogs; :func:`~.store.safely` turns an unreachable Redis into a skipped count and one
  warning a minute;
* :mod:`personalize.analytics.flush`: ``manage.py personalize_flush_analytics`` moves the
  counters into ``DailyCount`` rows, idempotently and without losing any when interrupted;
* :mod:`personalize.analytics.recording`: what a request counts;
* :mod:`personalize.analytics.experiments`: A/B/n assignment and automatic optimization, and
  the sync of experiments when a page is published (:mod:`~.walk` finds the blocks);
* :mod:`personalize.analytics.goals`: goals, conversions within the attribution window, funnels;
* :mod:`personalize.analytics.results` and :mod:`~.rows`: counts from the database and the
  store, with the statistics of :mod:`personalize.rules.stats`;
* :mod:`personalize.analytics.report`, :mod:`~.chart`, :mod:`~.labels`: the admin report.
"""
