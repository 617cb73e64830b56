"""Prediction logs in every supported format, found in place with DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from explorer.predictions import LogConfigError, find_request, log_sets


def write_jsonl(path: Path, docs: list[object], extra_lines: tuple[str, ...] = ()) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*(json.dumps(d) for d in docs), *extra_lines]) + "\n")


def kserve_event(rid: str, kind: str, when: str, endpoint: str = "canary") -> dict[str, object]:
    body = (
        {"inputs": [{"name": "x", "data": [1]}]}
        if kind == "request"
        else {"model_name": "churn", "outputs": [{"name": "p", "data": [0.9]}]}
    )
    return {
        "specversion": "1.0",
        "id": rid,
        "type": f"org.kubeflow.serving.inference.{kind}",
        "time": when,
        "inferenceservicename": "churn",
        "namespace": "prod",
        "component": "predictor",
        "endpoint": endpoint,
        "data": body,
    }


def test_kserve_request_and_response_join_and_bad_lines_are_counted(tmp_path: Path) -> None:
    log = tmp_path / "kserve" / "date=2026-02-20" / "part-0.jsonl"
    write_jsonl(
        log,
        [
            kserve_event("r-1", "request", "2026-02-20T09:00:00Z"),
            kserve_event("r-2", "request", "2026-02-20T09:01:00Z", "default"),
            kserve_event("r-1", "response", "2026-02-20T09:00:00.2Z"),
        ],
        extra_lines=('{"id": "r-1", "truncated', "", "[1, 2"),
    )
    result = find_request("r-1", log_sets({}, tmp_path, ("kserve/**/*.jsonl",)))
    assert result.invalid_lines == 2 and result.files == 1
    [record] = result.records
    assert (record.format, record.endpoint, record.environment, record.role) == ("kserve", "churn", "prod", "canary")
    assert record.time is not None and record.time.isoformat() == "2026-02-20T09:00:00+00:00"
    assert record.inputs == {"inputs": [{"name": "x", "data": [1]}]}
    assert record.outputs["outputs"][0]["data"] == [0.9]
    assert record.model_version is None, "KServe logs no version: trace resolves it through deployments"


def test_mlserver_v2_with_cloudevent_headers(tmp_path: Path) -> None:
    doc = {
        "headers": {
            "Ce-Id": "evt-9",
            "Ce-Requestid": "req-42",
            "Ce-Modelid": "churn",
            "Ce-Inferenceservicename": "churn-svc",
            "Ce-Endpoint": "default",
            "Ce-Type": "io.seldon.serving.inference.response",
            "Ce-Time": "2026-03-01T10:00:00Z",
        },
        "data": {
            "id": "req-42",
            "model_name": "churn",
            "model_version": "7",
            "outputs": [{"name": "p", "data": [0.2]}],
        },
    }
    write_jsonl(tmp_path / "mlserver.jsonl", [doc])
    [record] = find_request("req-42", log_sets({}, tmp_path, ("mlserver.jsonl",))).records
    assert (record.format, record.model_name, record.model_version) == ("mlserver", "churn", "7")
    assert (record.endpoint, record.role) == ("churn-svc", "default")


def test_databricks_legacy_and_current_tables_in_parquet(tmp_path: Path) -> None:
    con = duckdb.connect()
    legacy = tmp_path / "legacy" / "date=2026-01-05"
    legacy.mkdir(parents=True)
    con.execute(f"""COPY (SELECT 'dbx-1' AS databricks_request_id, 'client-1' AS client_request_id,
        1767571200000::BIGINT AS timestamp_ms, '{{"x": 1}}' AS request, '{{"predictions": [1]}}' AS response,
        MAP {{'model_name': 'churn', 'model_version': '3', 'endpoint_name': 'churn-ep'}} AS request_metadata)
        TO '{legacy}/part-0.parquet' (FORMAT parquet)""")
    current = tmp_path / "current"
    current.mkdir()
    con.execute(f"""COPY (SELECT 'dbx-2' AS databricks_request_id, NULL::VARCHAR AS client_request_id,
        TIMESTAMPTZ '2026-01-06 10:00:00+00' AS request_time, 'ent-7' AS served_entity_id, 200 AS status_code,
        '{{}}' AS request, '{{}}' AS response) TO '{current}/part-0.parquet' (FORMAT parquet)""")
    [old] = find_request("client-1", log_sets({}, tmp_path, ("legacy/**/*.parquet",))).records
    assert (old.format, old.model_name, old.model_version, old.endpoint) == ("databricks", "churn", "3", "churn-ep")
    assert old.time is not None and old.time.isoformat() == "2026-01-05T00:00:00+00:00"
    assert old.outputs == {"predictions": [1]}
    config = {
        "predictions": {
            "dbx": {
                "paths": ["current/*.parquet"],
                "format": "databricks",
                "set": {"endpoint": "churn-ep", "environment": "prod"},
            }
        }
    }
    [new] = find_request("dbx-2", log_sets(config, tmp_path)).records
    assert new.ids["served_entity_id"] == "ent-7" and new.endpoint == "churn-ep" and new.environment == "prod"
    assert new.time is not None and new.time.isoformat() == "2026-01-06T10:00:00+00:00"


def test_sagemaker_capture_endpoint_and_variant_from_path(tmp_path: Path) -> None:
    path = tmp_path / "capture" / "churn-endpoint" / "AllTraffic" / "2026" / "02" / "03" / "14" / "x-14-00-000.jsonl"
    doc = {
        "captureData": {
            "endpointInput": {"data": "61,24.5,7", "encoding": "CSV"},
            "endpointOutput": {"data": "0.93", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "evt-1", "inferenceId": "inf-77", "inferenceTime": "2026-02-03T14:05:00Z"},
        "eventVersion": "0",
    }
    write_jsonl(path, [doc])
    [record] = find_request("inf-77", log_sets({}, tmp_path, ("capture/**/*.jsonl",))).records
    assert (record.format, record.endpoint, record.role) == ("sagemaker", "churn-endpoint", "AllTraffic")
    assert record.outputs == "0.93"
    assert find_request("evt-1", log_sets({}, tmp_path, ("capture/**/*.jsonl",))).records, "event id matches too"


def test_generic_csv_jsonl_and_parquet_mapped_in_config(tmp_path: Path) -> None:
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "scores.csv").write_text(
        "rid,at,svc,version,score\na-1,1767225600,churn,2,0.4\na-2,1767225660,churn,2,0.5\n"
    )
    write_jsonl(
        tmp_path / "json" / "scores.jsonl", [{"meta": {"rid": "j-1", "at": "2026-01-01T00:00:00Z"}, "score": 0.1}]
    )
    con = duckdb.connect()
    out = tmp_path / "pq"
    con.execute(f"""COPY (SELECT 'p-' || i AS rid, 1767225600000 + i AS at, (i % 2)::VARCHAR AS version,
        '2026-01-01' AS date FROM range(5000) t(i)) TO '{out}' (FORMAT parquet, PARTITION_BY (date))""")
    config = {
        "predictions": {
            "csv": {
                "paths": ["csv/*.csv"],
                "format": "generic",
                "request_id": "rid",
                "time": "at",
                "endpoint": "svc",
                "model_version": "version",
                "outputs": "score",
                "set": {"model_name": "churn"},
            },
            "json": {
                "paths": ["json/*.jsonl"],
                "format": "generic",
                "request_id": "meta.rid",
                "time": "meta.at",
                "set": {"endpoint": "churn"},
            },
            "pq": {
                "paths": ["pq/**/*.parquet"],
                "format": "generic",
                "request_id": "rid",
                "time": "at",
                "time_unit": "ms",
                "model_version": "version",
                "set": {"endpoint": "batch"},
            },
        },
        "trace": {"logs": ["csv", "json", "pq"]},
    }
    sets = log_sets(config, tmp_path)
    [a2] = find_request("a-2", sets).records
    assert (a2.endpoint, a2.model_name, a2.model_version, a2.outputs) == ("churn", "churn", "2", 0.5)
    [j1] = find_request("j-1", sets).records
    assert j1.endpoint == "churn" and j1.time is not None and j1.time.year == 2026
    [p] = find_request("p-4999", sets).records
    assert p.model_version == "1" and p.time is not None and p.time.isoformat().startswith("2026-01-01T00:00:04.999")
    assert "date=2026-01-01" in p.file
    result = find_request("nope", sets)
    assert result.records == [] and result.files == 3 and result.searched == ["csv", "json", "pq"]


def test_bad_mapping_config_is_named() -> None:
    with pytest.raises(LogConfigError, match=r"\[predictions.x\] format generic needs request_id"):
        log_sets({"predictions": {"x": {"paths": ["a"], "format": "generic"}}}, Path("."))
    with pytest.raises(LogConfigError, match="format 'nope'"):
        log_sets({"predictions": {"x": {"paths": ["a"], "format": "nope"}}}, Path("."))
