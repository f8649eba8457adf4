"""The figures page's charts, from the weekly figures of ``bot.dashboard``."""

from __future__ import annotations

from adapters.web.charts import Chart, line_chart, stacked_bars
from bot.circles import CheckinWeek
from bot.dashboard import Week
from bot.i18n import Catalog
from bot.model import Category
from bot.words import category_name


def _labels(catalog: Catalog, lang: str, weeks: list[Week]) -> list[str]:
    return [catalog.text(lang, "web.week_label", nr=w.start.isocalendar()[1]) for w in weeks]


def _day(week: Week) -> str:
    return week.start.strftime("%d-%m-%Y")


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole) if whole else 0


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def requests_chart(catalog: Catalog, lang: str, weeks: list[Week]) -> Chart:
    t = catalog.text
    kinds = [c for c in Category if any(w.by_kind[c] for w in weeks)] or [Category.SHOPPING]
    names = [category_name(catalog, lang, c) for c in kinds]
    head = [t(lang, "web.col_week"), *names, t(lang, "web.col_total")]
    rows = [[_day(w), *(str(w.by_kind[c]) for c in kinds), str(w.asked)] for w in weeks]
    series = [
        (name, [float(w.by_kind[c]) for w in weeks]) for name, c in zip(names, kinds, strict=True)
    ]
    return stacked_bars(
        "requests", t(lang, "web.chart_requests"), _labels(catalog, lang, weeks), series, head, rows
    )


def checkins_chart(catalog: Catalog, lang: str, weeks: list[CheckinWeek]) -> Chart:
    """Check-ins nobody answered, and how many of those someone went to look in on."""
    t = catalog.text
    labels = [t(lang, "web.week_label", nr=w.start.isocalendar()[1]) for w in weeks]
    missed, followed = t(lang, "web.col_missed"), t(lang, "web.col_followed_up")
    return line_chart(
        "checkins",
        t(lang, "web.chart_checkins"),
        labels,
        [
            (missed, [float(w.missed) for w in weeks]),
            (followed, [float(w.followed_up) for w in weeks]),
        ],
        [t(lang, "web.col_week"), t(lang, "web.col_checkins_asked"), missed, followed],
        [
            [w.start.strftime("%d-%m-%Y"), str(w.asked), str(w.missed), str(w.followed_up)]
            for w in weeks
        ],
    )


def all_charts(
    catalog: Catalog, lang: str, weeks: list[Week], checkins: list[CheckinWeek]
) -> list[Chart]:
    t = catalog.text
    labels = _labels(catalog, lang, weeks)
    week = t(lang, "web.col_week")
    hours = t(lang, "web.unit_hours")
    wait = line_chart(
        "wait",
        t(lang, "web.chart_wait"),
        labels,
        [
            (t(lang, "web.p50"), [w.p50 for w in weeks]),
            (t(lang, "web.p90"), [w.p90 for w in weeks]),
        ],
        [week, t(lang, "web.p50"), t(lang, "web.p90"), t(lang, "web.col_matched")],
        [[_day(w), _hours(w.p50), _hours(w.p90), str(len(w.waits))] for w in weeks],
        unit=hours,
    )
    answered = stacked_bars(
        "answered",
        t(lang, "web.chart_answered"),
        labels,
        [(t(lang, "web.col_share"), [round(100 * (w.answered_share or 0)) for w in weeks])],
        [week, t(lang, "web.col_asked"), t(lang, "web.col_within_day"), t(lang, "web.col_share")],
        [
            [
                _day(w),
                str(w.asked),
                str(w.within_day),
                "" if w.answered_share is None else f"{round(100 * w.answered_share)}%",
            ]
            for w in weeks
        ],
        unit="%",
    )
    helpers = stacked_bars(
        "helpers",
        t(lang, "web.chart_helpers"),
        labels,
        [(t(lang, "web.col_helpers"), [float(len(w.helpers)) for w in weeks])],
        [week, t(lang, "web.col_helpers")],
        [[_day(w), str(len(w.helpers))] for w in weeks],
    )
    seats = stacked_bars(
        "seats",
        t(lang, "web.chart_seats"),
        labels,
        [
            (
                t(lang, "web.col_share"),
                [round(100 * w.taken / w.seats) if w.seats else 0 for w in weeks],
            )
        ],
        [week, t(lang, "web.col_seats"), t(lang, "web.col_taken"), t(lang, "web.col_share")],
        [
            [
                _day(w),
                str(w.seats),
                str(w.taken),
                f"{round(100 * w.taken / w.seats)}%" if w.seats else "",
            ]
            for w in weeks
        ],
        unit="%",
    )
    return [
        requests_chart(catalog, lang, weeks),
        wait,
        answered,
        helpers,
        seats,
        checkins_chart(catalog, lang, checkins),
    ]
