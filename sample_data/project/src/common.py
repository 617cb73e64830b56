"""Shared helpers of the sample pipeline: reading the prepared CSVs without pandas."""

import csv
from pathlib import Path

TARGET = "churned"


def read_xy(path: Path) -> tuple[list[str], list[list[float]], list[int]]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    target = header.index(TARGET)
    features = [h for i, h in enumerate(header) if i != target]
    xs = [[float(v) for i, v in enumerate(row) if i != target] for row in body]
    ys = [int(row[target]) for row in body]
    return features, xs, ys
