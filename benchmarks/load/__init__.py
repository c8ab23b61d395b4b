"""Fault and load runs of the demo's production request path.

``python -m benchmarks.load`` (or ``make load``) serves the demo under gunicorn (3 workers,
``DEBUG`` off) on a PostgreSQL database and a Redis server of its own, drives a bounded mixed
workload through it, injects one fault per scenario (Redis killed, hung, restarted with and
without persistence; PostgreSQL connections terminated) and reports errors, latencies, how soon
impression counting resumes and whether the counts sent reach the database after
``personalize_flush_analytics``. See ``benchmarks/load/README.md``.

Modules:

* :mod:`.config` — what a run measures (durations, concurrency, fault timings);
* :mod:`.processes`, :mod:`.redis_server`, :mod:`.database`, :mod:`.app_server` — the services
  a run starts, controls and removes;
* :mod:`.visitors`, :mod:`.workload`, :mod:`.probes` — the load generator and its measurements;
* :mod:`.faults`, :mod:`.scenario` — the fault matrix and one scenario's run;
* :mod:`.logs`, :mod:`.report` — the server log and the results table.
"""
