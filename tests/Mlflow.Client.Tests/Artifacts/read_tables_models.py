"""Reads what a .NET run logged (table, dataset input, models) with MLflow's own Python client and prints it as JSON.

Usage: read_tables_models.py TRACKING_URI EXPERIMENT_ID RUN_ID TABLE_FILE ONNX_MODEL_PATH FILES_MODEL_PATH
Used by the opt-in tests of tests/Mlflow.Client.Tests/Artifacts (local store and real server).
"""
import json
import sys

import mlflow
import mlflow.onnx
from mlflow.models import Model


def main(uri, experiment_id, run_id, table_file, onnx_path, files_path):
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=experiment_id)
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    out = {}
    df = mlflow.load_table(table_file, run_ids=[run_id])
    out["table"] = {"columns": list(df.columns), "data": json.loads(df.to_json(orient="values", date_format="iso"))}
    out["logged_artifacts"] = json.loads(run.data.tags.get("mlflow.loggedArtifacts", "[]"))
    history = json.loads(run.data.tags.get("mlflow.log-model.history", "[]"))
    out["history"] = [{"artifact_path": h["artifact_path"], "run_id": h["run_id"], "flavors": sorted(Model.from_dict(h).flavors)} for h in history]
    out["inputs"] = [
        {"name": d.dataset.name, "digest": d.dataset.digest, "source_type": d.dataset.source_type, "source": d.dataset.source,
         "schema": d.dataset.schema, "profile": d.dataset.profile, "tags": {t.key: t.value for t in d.tags}}
        for d in run.inputs.dataset_inputs
    ]
    onnx_model = mlflow.onnx.load_model(f"runs:/{run_id}/{onnx_path}")
    out["onnx"] = {"inputs": [i.name for i in onnx_model.graph.input], "outputs": [o.name for o in onnx_model.graph.output]}
    info = mlflow.models.get_model_info(f"runs:/{run_id}/{onnx_path}")
    out["onnx_info"] = {"run_id": info.run_id, "artifact_path": info.artifact_path, "flavors": sorted(info.flavors),
                        "loader_module": info.flavors["python_function"]["loader_module"],
                        "signature_inputs": info.signature.inputs.to_dict() if info.signature else None}
    try:
        mlflow.pyfunc.load_model(f"runs:/{run_id}/{onnx_path}")
        out["pyfunc"] = "loaded"
    except ModuleNotFoundError as e:  # python_function -> mlflow.onnx needs onnxruntime to build a session
        out["pyfunc"] = f"missing module {e.name}"
    files_info = mlflow.models.get_model_info(f"runs:/{run_id}/{files_path}")
    out["files_info"] = {"flavors": sorted(files_info.flavors), "files": files_info.flavors["files"]["files"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:7])
