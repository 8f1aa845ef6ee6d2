"""The PI's chart stays a page, not megabytes, however many RAs there are."""

from datetime import date, timedelta

from collector.web.chart import SERIES_CLASSES, build_chart


def test_thousands_of_ras_fold_into_the_busiest_and_everyone_else():
    today = date(2026, 11, 22)
    counts = [(today - timedelta(days=d), f"RA Ωμέγα {i:05d}", 1 + (i == 42) * 100)
              for d in range(30) for i in range(10_000)]
    chart = build_chart(sorted(counts), today)
    names = [name for name, _series in chart.people]
    assert len(names) == SERIES_CLASSES and names[-1] == "Everyone else (9993 more)"
    assert "RA Ωμέγα 00042" in names
    assert len(chart.bars) <= 30 * SERIES_CLASSES and len(chart.counts) <= 30 * SERIES_CLASSES
    # Nothing is lost in the folding: every entry is still counted.
    assert sum(n for _day, _name, n in chart.counts) == sum(n for _day, _name, n in counts)
