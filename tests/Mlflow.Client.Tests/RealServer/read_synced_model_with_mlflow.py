#!/usr/bin/env python3
"""Reads a run pushed by mlflow-sync back with MLflow's own Python client and prints what it sees as JSON (for the .NET tests).

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 read_synced_model_with_mlflow.py TRACKING_URI EXPERIMENT_ID RUN_ID

MLflow 3: mlflow.search_logged_models over the experiment (each model's status, source run, params, tags, metrics with
their model id and dataset), the run's outputs and metric histories, and download_artifacts("models:/<id>") of each
model with its MLmodel's ids. MLflow 2: the run's artifacts under "model" (the files a sync uploads there).
"""
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import mlflow  # noqa: E402
import yaml  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

uri, experiment_id, run_id = sys.argv[1], sys.argv[2], sys.argv[3]
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)
out = {"version": mlflow.__version__}


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/") for d, _, fs in os.walk(root) for f in fs)


def metric(m):
    return {
        "key": m.key,
        "value": m.value,
        "step": m.step,
        "run_id": getattr(m, "run_id", None),
        "model_id": getattr(m, "model_id", None),
        "dataset_name": getattr(m, "dataset_name", None),
        "dataset_digest": getattr(m, "dataset_digest", None),
    }


run = client.get_run(run_id)
out["run_metrics"] = {key: [metric(m) for m in client.get_metric_history(run_id, key)] for key in sorted(run.data.metrics)}
if int(mlflow.__version__.split(".")[0]) >= 3:
    out["outputs"] = [{"model_id": o.model_id, "step": o.step} for o in (run.outputs.model_outputs if run.outputs else [])]
    out["models"] = []
    for m in mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list"):
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(f"models:/{m.model_id}", dst_path=tmp)
            files = files_under(local)
            with open(os.path.join(local, "MLmodel")) as f:
                mlmodel = yaml.safe_load(f)
        out["models"].append({
            "model_id": m.model_id,
            "name": m.name,
            "status": str(m.status),
            "model_type": m.model_type,
            "source_run_id": m.source_run_id,
            "params": m.params,
            "tags": m.tags,
            "metrics": [metric(x) for x in (m.metrics or [])],
            "files": files,
            "mlmodel": {k: mlmodel.get(k) for k in ("model_id", "model_uuid", "run_id", "artifact_path")},
        })
else:
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/model", dst_path=tmp)
        out["run_model_files"] = files_under(local)

print(json.dumps(out))
