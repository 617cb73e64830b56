"""Score the trained model on the held-out test set."""

import json
import pickle
import sys
from pathlib import Path

from common import read_xy
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score


def main(model_path: str, prepared: str, out: str) -> None:
    with open(model_path, "rb") as fh:
        model = pickle.load(fh)  # the pipeline's own artifact, written by train.py above
    _features, xs, ys = read_xy(Path(prepared) / "test.csv")
    pred = model.predict(xs)
    proba = [p[1] for p in model.predict_proba(xs)]
    metrics = {
        "accuracy": round(accuracy_score(ys, pred), 4),
        "f1": round(f1_score(ys, pred), 4),
        "roc_auc": round(roc_auc_score(ys, proba), 4),
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(metrics, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
