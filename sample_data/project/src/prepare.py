"""Split the raw customer table into train and test sets, deriving the model's features."""

import csv
import random
import sys
from pathlib import Path

import yaml

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_monthly"]


def derive(row: dict[str, str]) -> dict[str, str]:
    return row


def main(raw: str, out_dir: str) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
    with open(raw, newline="") as fh:
        rows = [derive(r) for r in csv.DictReader(fh)]
    random.Random(params["seed"]).shuffle(rows)
    cut = int(len(rows) * (1 - params["test_size"]))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns = [*FEATURES, "churned"]
    for name, part in (("train.csv", rows[:cut]), ("test.csv", rows[cut:])):
        with (out / name).open("w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            for r in part:
                writer.writerow([r[c] for c in columns])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
