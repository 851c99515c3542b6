"""Reads what a .NET run logged (table, dataset input, models) with MLflow's own Python client and prints it as JSON.

Usage: read_tables_models.py TRACKING_URI EXPERIMENT_ID RUN_ID TABLE_FILE ONNX_MODEL_PATH FILES_MODEL_PATH [NAME=MODEL_URI ...]
Used by the opt-in tests of tests/Mlflow.Client.Tests/Artifacts (local store and real server).
"""
import json
import sys

import mlflow
import mlflow.onnx
from mlflow.models import Model

MLFLOW3 = int(mlflow.__version__.split(".")[0]) >= 3


def main(uri, experiment_id, run_id, table_file, onnx_path, files_path, *model_uris):
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=experiment_id)
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    out = {"mlflow_major": int(mlflow.__version__.split(".")[0])}
    df = mlflow.load_table(table_file, run_ids=[run_id])
    out["table"] = {"columns": list(df.columns), "data": json.loads(df.to_json(orient="values", date_format="iso"))}
    out["logged_artifacts"] = json.loads(run.data.tags.get("mlflow.loggedArtifacts", "[]"))
    if model_uris:
        # MLflow 2.x on a local store the SDK wrote: the models are MLflow 3 logged models (models/m-<id>), which 2.x's
        # file store does not list, so the caller names each model's folder ("name=path") and 2.x loads it from there.
        out["history"] = []
        uris = dict(u.split("=", 1) for u in model_uris)
    elif MLFLOW3:
        # MLflow 3 logs a model as a logged model of the run (no history tag, no run-artifact copy); load it by its id,
        # as a runs:/ URI first asks the run's artifacts, which a proxy answers with retried 500s for a missing folder.
        models = sorted(client.search_logged_models(experiment_ids=[experiment_id], filter_string=f"source_run_id = '{run_id}'"),
                        key=lambda m: m.creation_timestamp)
        out["history"] = [{"artifact_path": m.name, "run_id": m.source_run_id, "status": str(m.status)} for m in models]
        uris = {m.name: f"models:/{m.model_id}" for m in models}
    else:
        history = json.loads(run.data.tags.get("mlflow.log-model.history", "[]"))
        out["history"] = [{"artifact_path": h["artifact_path"], "run_id": h["run_id"], "flavors": sorted(Model.from_dict(h).flavors)} for h in history]
        uris = {p: f"runs:/{run_id}/{p}" for p in (onnx_path, files_path)}
    out["inputs"] = [
        {"name": d.dataset.name, "digest": d.dataset.digest, "source_type": d.dataset.source_type, "source": d.dataset.source,
         "schema": d.dataset.schema, "profile": d.dataset.profile, "tags": {t.key: t.value for t in d.tags}}
        for d in run.inputs.dataset_inputs
    ]
    onnx_model = mlflow.onnx.load_model(uris[onnx_path])
    out["onnx"] = {"inputs": [i.name for i in onnx_model.graph.input], "outputs": [o.name for o in onnx_model.graph.output]}
    info = mlflow.models.get_model_info(uris[onnx_path])
    out["onnx_info"] = {"run_id": info.run_id, "artifact_path": info.artifact_path, "flavors": sorted(info.flavors),
                        "loader_module": info.flavors["python_function"]["loader_module"],
                        "signature_inputs": info.signature.inputs.to_dict() if info.signature else None}
    try:
        mlflow.pyfunc.load_model(uris[onnx_path])
        out["pyfunc"] = "loaded"
    except ModuleNotFoundError as e:  # python_function -> mlflow.onnx needs onnxruntime to build a session
        out["pyfunc"] = f"missing module {e.name}"
    files_info = mlflow.models.get_model_info(uris[files_path])
    out["files_info"] = {"flavors": sorted(files_info.flavors), "files": files_info.flavors["files"]["files"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
