"""What the load generator saw: one sample per request, and the impressions it expects counted.

Times are seconds on the scenario's clock: 0 is the start of the measured workload, negative
times are the warm-up. A request's expected impressions are those of a delivered page (status
200) for a visitor the package counts (see :mod:`.visits`); they are summed per visitor class
and per page, to compare with what the flush stored.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """One request."""

    start: float
    end: float
    #: page, graphql, event, consent, login, static, probe
    kind: str
    #: the visitor class (:data:`.visits.CLASSES`, or ``probe``/``editor``)
    visitor: str
    #: HTTP status; 0 when no answer came (``error`` says why)
    status: int
    error: str = ""
    #: impressions the server should have counted for this request
    expected: int = 0

    @property
    def seconds(self) -> float:
        """How long the request took (until its body was read, or it failed)."""
        return self.end - self.start


@dataclass
class Recorder:
    """Collects :class:`Sample` rows on one clock.

    Args:
        t0: ``time.monotonic()`` at the start of the measured workload.
    """

    t0: float
    samples: list[Sample] = field(default_factory=list)
    #: expected impressions per page id and per visitor class
    expected_by_page: Counter[int] = field(default_factory=Counter)
    expected_by_visitor: Counter[str] = field(default_factory=Counter)
    #: timeline of what the fault did: (time, description)
    events: list[tuple[float, str]] = field(default_factory=list)

    def now(self) -> float:
        """Seconds since the start of the measured workload."""
        return time.monotonic() - self.t0

    def add(self, sample: Sample, page_id: int | None = None) -> None:
        """Record a request (and its expected impressions, on ``page_id``)."""
        self.samples.append(sample)
        if sample.expected:
            self.expected_by_visitor[sample.visitor] += sample.expected
            if page_id is not None:
                self.expected_by_page[page_id] += sample.expected

    def mark(self, description: str) -> float:
        """Note a fault event now; returns its time."""
        at = self.now()
        self.events.append((at, description))
        return at

    @property
    def expected(self) -> int:
        """All impressions expected counted."""
        return sum(self.expected_by_visitor.values())
