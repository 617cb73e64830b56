"""Train the churn classifier on the prepared training set."""

import json
import pickle
import sys
from pathlib import Path

import yaml
from common import read_xy
from sklearn.ensemble import RandomForestClassifier


def main(prepared: str, model_path: str) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    _features, xs, ys = read_xy(Path(prepared) / "train.csv")
    model = RandomForestClassifier(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        min_samples_leaf=params["min_samples_leaf"],
        random_state=params["seed"],
        n_jobs=1,
    )
    model.fit(xs, ys)
    Path(model_path).parent.mkdir(parents=True, exist_ok=True)
    with open(model_path, "wb") as fh:
        pickle.dump(model, fh, protocol=4)
    Path("metrics").mkdir(exist_ok=True)
    Path("metrics/train.json").write_text(json.dumps({"train_accuracy": round(model.score(xs, ys), 4)}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
