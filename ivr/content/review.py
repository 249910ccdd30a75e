"""When a leaflet is due for review: its ``next_review``, else its last review plus a period.

The period is ``IVR_REVIEW_PERIOD_MONTHS`` (default 36: the three years patient-information
standards commonly ask for). A leaflet past its date is *overdue*: ``ivr check`` reports it (an
error for service), the staff leaflets page lists it first with the days overdue, and callers
hear that the content is due for review.
"""

from __future__ import annotations

import calendar
import datetime as dt

__all__ = ["DEFAULT_REVIEW_PERIOD_MONTHS", "add_months", "days_overdue", "review_due"]

DEFAULT_REVIEW_PERIOD_MONTHS = 36


def add_months(date: dt.date, months: int) -> dt.date:
    """``date`` plus whole months; the 29, 30 or 31st becomes the month's last day when it has none."""
    month_index = date.month - 1 + months
    year, month = date.year + month_index // 12, month_index % 12 + 1
    return date.replace(year=year, month=month, day=min(date.day, calendar.monthrange(year, month)[1]))


def review_due(last_reviewed: dt.date, next_review: dt.date | None,
               period_months: int = DEFAULT_REVIEW_PERIOD_MONTHS) -> dt.date:
    """The date the next review is due: ``next_review`` when given, else the last review + the period."""
    return next_review if next_review is not None else add_months(last_reviewed, period_months)


def days_overdue(due: dt.date, today: dt.date) -> int:
    """Days since the review fell due (0 on the day itself and before it)."""
    return max(0, (today - due).days)
