"""First-party analytics and experiments: impressions, conversions, goals, funnels, A/B/n.

Counting happens while pages are served and must never slow them down or break them, so
counters go to a fast shared store first and reach the database later:

* :mod:`~personalize.analytics.store`: the process's counter store
  (:func:`~personalize.analytics.store.counter_store`) and
  :func:`~personalize.analytics.store.safely`, which turns an unreachable Redis into a skipped
  count and one warning a minute; the store's interface and key layout are
  :mod:`~personalize.analytics.counters`, its implementations
  :mod:`~personalize.analytics.redis_store`, :mod:`~personalize.analytics.local_store` and
  :mod:`~personalize.analytics.file_store` (process memory kept in a file, without Redis);
* :mod:`~personalize.analytics.pending`: counts that wait in memory while Redis is away;
* :mod:`~personalize.analytics.visitor_state`: a consenting visitor's exposures, goals and
  assignments;
* :mod:`~personalize.analytics.recording`: what a request counts;
* :mod:`~personalize.analytics.experiments`: A/B/n assignment and automatic optimization;
* :mod:`~personalize.analytics.goals`: goals, conversions within the attribution window, funnels;
* :mod:`~personalize.analytics.flush`: ``manage.py personalize_flush_analytics`` moves the
  counters into ``DailyCount`` rows, idempotently and without losing any when interrupted;
* :mod:`~personalize.analytics.results` and :mod:`~personalize.analytics.rows`: counts from the
  database and the store, with the statistics of :mod:`personalize.rules.stats`.

The admin report that shows them is :mod:`personalize.admin.report`; publishing a page syncs its
experiments in :mod:`personalize.blocks.publishing`.
"""
