"""Session fixtures of the MLflow tests (defined in mlflow_fixtures, importable by the tests too)."""

from mlflow_fixtures import mlflow_server, tracking

__all__ = ["mlflow_server", "tracking"]
