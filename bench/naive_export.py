"""The baseline's export: ORM query plus the csv module (bench/run.py measures it)."""

import csv
import sys

from bench.naive_app import FIELDS, Dataentry, app


def main(path):
    with app.app_context(), open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", *FIELDS])
        for entry in Dataentry.query.order_by(Dataentry.id).all():
            writer.writerow([entry.id, *(getattr(entry, name) for name in FIELDS)])


if __name__ == "__main__":
    main(sys.argv[1])
