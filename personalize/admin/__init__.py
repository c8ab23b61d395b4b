"""The Wagtail admin: segment and analytics snippets, the report, and the userbar's "View as".

- :mod:`~personalize.admin.viewsets`: the snippet viewsets (segments, scoring rules, goals,
  funnels, experiments), declared, not built;
- :mod:`~personalize.admin.report`: Reports → Personalization, with its rows' labels
  (:mod:`~personalize.admin.labels`), formatted tables (:mod:`~personalize.admin.report_tables`)
  and daily chart (:mod:`~personalize.admin.chart`);
- :mod:`~personalize.admin.userbar`: "View as" entries on live pages, for editors.

:mod:`personalize.wagtail_hooks` registers them; the rule builder's blocks are
:mod:`personalize.rule_blocks`.
"""
