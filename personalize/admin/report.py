"""The personalization report in the Wagtail admin (Reports → Personalization).

For a period and a goal: a table per personalized block (impressions, exposed visitors,
conversions, rate and, inside experiments, uplift, P(beat control), P(best) and a sample ratio
mismatch warning), a chart of daily impressions and conversions, the funnels, and the same rows
as CSV (``?format=csv``). An alternative is compared with the control only once both have
enough data (``REPORT_MIN_VISITORS``, ``REPORT_MIN_CONVERSIONS``); until then its row says
"Not enough data yet" and how much more it needs, and the CSV leaves its statistics empty and
says the same. The numbers come from :mod:`personalize.analytics.results`, their formatting
from :mod:`personalize.admin.report_tables`, the labels from :mod:`personalize.admin.labels`
and the chart's geometry from :mod:`personalize.admin.chart`.

It is a dashboard rather than a paginated listing, so it is a plain admin template view, not
Wagtail's ``ReportView``. Users need admin access and the ``personalize.view_dailycount``
permission (Django's default view permission of :class:`~personalize.models.DailyCount`,
listed in the group editor); superusers have it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from personalize.admin.chart import chart
from personalize.admin.labels import Labeller
from personalize.admin.report_tables import block_tables, funnel_tables, needed_text
from personalize.analytics import results
from personalize.models import Experiment, Goal
from personalize.rules.stats import SRM_THRESHOLD

#: The permission that opens the report.
PERMISSION = "personalize.view_dailycount"
#: Days shown by default (ending today, UTC).
DEFAULT_DAYS = 28
#: The longest period the report accepts.
MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)


def can_view_report(user: Any) -> bool:
    """Whether ``user`` may open the report."""
    return bool(user.is_active and user.has_perm(PERMISSION))


class ReportMenuItem(MenuItem):
    """Reports → Personalization, for users who may view the report."""

    def is_shown(self, request: HttpRequest) -> bool:
        return can_view_report(request.user)


class DateInput(forms.DateInput):
    """The browser's own date picker."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class ReportForm(forms.Form):
    """The period, the goal and optionally one experiment (dates are UTC days)."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    goal = forms.ModelChoiceField(
        Goal.objects.all(), label=_("Goal"), required=False, empty_label=None
    )
    experiment = forms.ModelChoiceField(
        Experiment.objects.all(), required=False, widget=forms.HiddenInput
    )

    def clean(self) -> dict[str, Any]:
        """Fill in the default period (the last 28 days) and check the period."""
        data = super().clean()
        if "start" not in data or "end" not in data:
            return data  # a date did not parse: its error is shown
        too_early = [name for name in ("start", "end") if data[name] and data[name] < EARLIEST]
        for name in too_early:
            self.add_error(name, gettext("Choose a day from %(day)s on.") % {"day": EARLIEST})
        if too_early:
            return data
        end = data["end"] or results.utc_today()
        start = data["start"]
        if start is None:
            start = max(end - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
        if start > end:
            self.add_error("start", gettext("The period must not start after it ends."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error("start", gettext("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        data["start"], data["end"] = start, end
        return data


@dataclass
class Filters:
    """What the report shows, once the form is read."""

    start: date
    end: date
    goal: Goal | None
    experiment: Experiment | None


def read_filters(form: ReportForm) -> Filters:
    """The form's choices; the defaults where it is invalid (the errors are shown)."""
    end = results.utc_today()
    start = end - timedelta(days=DEFAULT_DAYS - 1)
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    experiment = form.cleaned_data.get("experiment")
    goal = form.cleaned_data.get("goal")
    if goal is None and experiment is not None:
        goal = experiment.goal
    if goal is None:
        goal = Goal.objects.first()
    return Filters(start, end, goal, experiment)


# Views -------------------------------------------------------------------------------------

CSV_HEADER = [
    "start", "end", "goal_id", "goal", "page_id", "page", "block_key", "block", "variant",
    "variant_label", "alternative", "alternative_label", "segment_id", "segment", "impressions",
    "exposed_visitors", "conversions", "conversion_rate", "uplift", "uplift_low", "uplift_high",
    "p_beat_control", "p_best", "srm_p_value", "enough_data", "data_needed",
]  # fmt: skip
#: ``enough_data`` per :attr:`~personalize.analytics.results.Row.enough_data`: rows without a
#: comparison (no experiment, the holdout, no goal) leave it empty.
ENOUGH_DATA = {True: "yes", False: "no", None: None}


def _cell(value: Any) -> Any:
    """A CSV cell: numbers as they are, text protected from spreadsheet formulas."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filters: Filters, rows: list[results.Row], labels: Labeller) -> HttpResponse:
    """The report's rows as a CSV download."""
    name = f"personalization-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    goal = filters.goal
    for row in rows:
        writer.writerow(
            _cell(value)
            for value in (
                filters.start.isoformat(),
                filters.end.isoformat(),
                goal.pk if goal else None,
                goal.name if goal else None,
                row.page_id,
                labels.page(row.page_id),
                row.block_key,
                labels.block(row.block_key),
                row.variant,
                labels.variant(row),
                row.alternative or "-",
                labels.alternative(row),
                row.segment_id,
                labels.segment(row.segment_id),
                row.impressions,
                row.exposed,
                row.conversions,
                row.rate,
                row.uplift,
                row.uplift_low,
                row.uplift_high,
                row.p_beat_control,
                row.p_best,
                row.srm_p,
                ENOUGH_DATA[row.enough_data],
                needed_text(row.shortfalls),
            )  # fmt: skip
        )
    return response


class PersonalizationReportView(WagtailAdminTemplateMixin, TemplateView):
    """Reports → Personalization."""

    template_name = "personalize/analytics/report.html"
    page_title = _("Personalization")
    header_icon = "group"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_view_report(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """The report page, or its rows as CSV with ``?format=csv``."""
        form = ReportForm(request.GET)
        filters = read_filters(form)
        if request.GET.get("format") == "csv" and not form.is_valid():
            errors = "; ".join(e for errs in form.errors.values() for e in errs)
            return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
        experiment = filters.experiment
        goal_id = filters.goal.pk if filters.goal else None
        thresholds = results.report_thresholds()
        rows = results.block_rows(
            filters.start,
            filters.end,
            goal_id,
            variant=experiment.key if experiment else None,
            thresholds=thresholds,
        )
        labels = Labeller(rows)
        if request.GET.get("format") == "csv":
            return csv_response(filters, rows, labels)
        # Show the period and goal actually used in the form.
        form.data = form.data.copy()
        if form.is_valid():
            form.data["start"] = filters.start.isoformat()
            form.data["end"] = filters.end.isoformat()
        if filters.goal is not None and not form.data.get("goal"):
            form.data["goal"] = str(filters.goal.pk)
        series = results.daily_series(
            filters.start,
            filters.end,
            experiment.block_key if experiment else None,
            goal_id,
            variant=experiment.key if experiment else None,
        )
        query = {
            "start": filters.start.isoformat(),
            "end": filters.end.isoformat(),
            **({"goal": filters.goal.pk} if filters.goal else {}),
            **({"experiment": experiment.pk} if experiment else {}),
        }
        context = self.get_context_data(
            form=form,
            filters=filters,
            tables=block_tables(rows, labels),
            chart=chart(series),
            funnels=[] if experiment else funnel_tables(filters.start, filters.end),
            csv_query=urlencode({**query, "format": "csv"}),
            all_url=reverse("personalize_admin:report"),
            srm_threshold=SRM_THRESHOLD,
            thresholds=thresholds,
            compared=any(row.enough_data is not None for row in rows),
        )
        return self.render_to_response(context)


urlpatterns = [path("report/", PersonalizationReportView.as_view(), name="report")]
