"""Print the benchmark's results as a Markdown table, each number next to its baseline."""

import statistics


def median(runs, key):
    return statistics.median(run[key] for run in runs)


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


def render(report, options, machine):
    load, rss, cold = report["load"], report["rss"], report["cold"]
    rate = {name: median(runs, "rate") for name, runs in load.items()}
    p50 = {name: median(runs, "p50_ms") for name, runs in load.items()}
    p99 = {name: median(runs, "p99_ms") for name, runs in load.items()}
    errors = {name: sum(r["status_errors"] + r["socket_errors"] for r in runs) for name, runs in load.items()}
    lines = [
        f"Collector benchmark, {machine['date']}: {machine['cores']} cores, Python {machine['python']}, "
        f"PostgreSQL {machine['postgres']}, {machine['system']}",
        f"Load: {machine['generator']}, {options.clients} clients, {options.rounds} A/B rounds of "
        f"{options.seconds} s per app; medians of the rounds. Both apps: gunicorn.conf.py, 2 workers"
        + (f", {options.gunicorn_args}." if options.gunicorn_args else "."),
        "",
        "| measure | collector | naive baseline | collector / baseline | target |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| valid submissions per second | {rate['collector']:.0f} | {rate['naive']:.0f} | "
        f"{ratio(rate['collector'], rate['naive'])} | at least 1.0x (aim 1.3x) |",
        f"| latency p50 (ms) | {p50['collector']:.1f} | {p50['naive']:.1f} | "
        f"{ratio(p50['collector'], p50['naive'])} | |",
        f"| latency p99 (ms) | {p99['collector']:.1f} | {p99['naive']:.1f} | "
        f"{ratio(p99['collector'], p99['naive'])} | under 20 ms |",
        f"| failed requests | {errors['collector']} | {errors['naive']} | | 0 |",
        f"| cold start to first 200 on the form (s) | {cold['collector']:.2f} | {cold['naive']:.2f} | "
        f"{ratio(cold['collector'], cold['naive'])} | at most 1.25x |",
        f"| resident memory per worker after load (MB, largest) | {max(rss['collector']):.0f} | "
        f"{max(rss['naive']):.0f} | {ratio(max(rss['collector']), max(rss['naive']))} | under 80 MB |",
        f"| peak database connections during load | {report['connections']['collector']} | "
        f"{report['connections']['naive']} | | at most 16 (Essential-0 budget) |",
        "",
        f"Load generator ceiling (same generator, a server that answers at once): "
        f"{report['generator']:.0f} requests/s, {report['generator'] / max(rate.values()):.1f}x the "
        "faster app, so the apps' rates above are theirs, not the generator's.",
        "",
        f"Export of {options.rows:,} rows to CSV:",
        "",
        "| method | seconds | MB/s | peak memory (MB) | throughput vs psql \\copy |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    export = report["export"]
    limit = next(v for k, v in export.items() if k.startswith("psql"))
    for label, run in export.items():
        speed = run["mb"] / run["seconds"]
        lines.append(f"| {label} | {run['seconds']:.2f} | {speed:.0f} | {run['peak_mb']:.0f} | "
                     f"{speed / (limit['mb'] / limit['seconds']):.0%} |")
    lines.append("")
    lines.append("Targets: export at least 50% of psql \\copy throughput with flat memory.")
    return "\n".join(lines)
