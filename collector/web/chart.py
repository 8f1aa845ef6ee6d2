"""Submissions per day per RA, as the numbers a server-rendered SVG bar chart needs.

No JavaScript and no CDN: the template draws <rect>s from these numbers, and
a plain table with the same counts follows the chart.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ARRAY, DateTime, func, literal, select

from collector.db.row_filters import NO_INVITE

DAYS = 30
# The rows page is as wide as its data; the chart is drawn for about 60rem (the CSS caps it),
# with room on the right so the last day's label is not cut off.
WIDTH, HEIGHT, LEFT, RIGHT, BOTTOM, TOP = 960, 200, 36, 24, 28, 10
LABEL_EVERY = 3     # days; counted back from today, so today always has its label
SERIES_CLASSES = 8  # colours in collector.css: .series-0 … .series-7
OTHERS = "Everyone else"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


@dataclass(frozen=True)
class Chart:
    bars: list
    people: list          # [(name, series index)]
    ticks: list           # [(y, label)] for the count axis
    day_labels: list      # [(x, "11-21")] every few days
    counts: list          # [(day, name, count)] for the table
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT   # where the plot ends


def daily_counts(conn, table, timezone, today):
    """Return [(day, name, count)] for the last DAYS days, days in the form's time zone.

    The days' bounds are worked out here (local midnights, so a day with a clock
    change has its 23 or 25 hours) and each row finds its day by width_bucket:
    on 80,000 rows a month that is half the time of converting every row's time
    to a local date, and the bounds on submitted_at itself let the time index
    find the 30 days. Rows after today exist too (clock skew, replays): left out.
    """
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    bounds = [datetime.combine(day, time.min, tzinfo=timezone)
              for day in days + [today + timedelta(days=1)]]
    slot = func.width_bucket(table.c.submitted_at,
                             literal(bounds, ARRAY(DateTime(timezone=True)))).label("slot")
    query = (select(slot, table.c.entered_by, func.count())
             .where(table.c.submitted_at >= bounds[0], table.c.submitted_at < bounds[-1])
             .group_by(slot, table.c.entered_by))
    counts = [(days[slot - 1], NO_INVITE if name is None else name, count)
              for slot, name, count in conn.execute(query)]
    return sorted(counts)


def _fold_the_rest(counts):
    """Keep the RAs with most entries (one colour each); add up everyone else per day.

    A study with thousands of RAs (or a public form with many names) would
    otherwise draw a bar and a table row per RA per day: megabytes of page.
    """
    totals = {}
    for _day, name, n in counts:
        totals[name] = totals.get(name, 0) + n
    if len(totals) <= SERIES_CLASSES:
        return counts
    kept = set(sorted(totals, key=lambda name: (-totals[name], name))[:SERIES_CLASSES - 1])
    others = f"{OTHERS} ({len(totals) - len(kept)} more)"
    folded = {}
    for day, name, n in counts:
        key = (day, name if name in kept else others)
        folded[key] = folded.get(key, 0) + n
    return sorted((day, name, n) for (day, name), n in folded.items())


def build_chart(counts, today):
    """Lay out stacked bars, one per day, one colour per RA."""
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    counts = _fold_the_rest([(day, name, n) for day, name, n in counts if day in days])
    people = sorted({name for _day, name, _n in counts}, key=lambda name: (name.startswith(OTHERS), name))
    series = {name: i % SERIES_CLASSES for i, name in enumerate(people)}
    totals = {d: sum(n for day, _name, n in counts if day == d) for d in days}
    peak = max(max(totals.values(), default=0), 1)
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - RIGHT) / DAYS
    bars, stacked = [], dict.fromkeys(days, 0)
    for day, name, count in counts:
        height = count / peak * plot_height
        stacked[day] += height
        bars.append(Bar(x=LEFT + days.index(day) * slot + 1, y=HEIGHT - BOTTOM - stacked[day],
                        width=slot - 2, height=height, series=series[name],
                        title=f"{day:%Y-%m-%d}: {name}, {count}"))
    ticks = [(HEIGHT - BOTTOM - plot_height * f, round(peak * f)) for f in (0, 0.5, 1)]
    labels = [(LEFT + i * slot + slot / 2, f"{d:%m-%d}") for i, d in enumerate(days)
              if (DAYS - 1 - i) % LABEL_EVERY == 0]
    return Chart(bars, [(p, series[p]) for p in people], ticks, labels, counts)
