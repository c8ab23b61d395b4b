"""What a visitor does, and what they may take back.

- :mod:`~personalize.tracking.events`: events scored into the profile and counted for goals
  (``personalize.track()``, page views, form submissions, downloads, registrations);
- :mod:`~personalize.tracking.choices`: consent choices and stated preferences;
- :mod:`~personalize.tracking.login`: the anonymous profile merged at login, forgotten at logout;
- :mod:`~personalize.tracking.privacy`: what the site knows about a visitor, for the privacy page
  and the export;
- :mod:`~personalize.tracking.export`: the download of it, one JSON document;
- :mod:`~personalize.tracking.erasure`: deleting it.

Everything here acts through the request's visitor (:mod:`personalize.visitors`) on the profile
store (:mod:`personalize.profiles`) and the analytics counters (:mod:`personalize.analytics`).
"""
