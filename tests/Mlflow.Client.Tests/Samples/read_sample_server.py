#!/usr/bin/env python3
"""MLflow's own Python client reads what samples/ModelEvaluation logged to a tracking server (or, with a file: URI,
to the local store) and prints it as JSON.

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 read_sample_server.py TRACKING_URI EXPERIMENT_NAME MODEL_NAME

Every line: the runs (status, params, metrics, artifacts) and the registered version behind the alias "champion".
MLflow 3 also: each run's outputs, mlflow.search_logged_models over the experiment (status, source run, metrics with
their model id), Model.load("models:/<id>") of each model (its flavors and ids), the files download_artifacts brings,
and, for an onnx model, mlflow.onnx / mlflow.pyfunc when their packages are installed (the graph's input names and
opsets). MLflow 2: the run's "model" artifacts and, when they hold one (a 2.x server), its MLmodel and the same onnx
checks through runs:/<run id>/model.
"""
import importlib.util
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import mlflow  # noqa: E402
from mlflow.models import Model  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

uri, experiment_name, model_name = sys.argv[1], sys.argv[2], sys.argv[3]
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)
major = int(mlflow.__version__.split(".")[0])
out = {"version": mlflow.__version__, "runs": [], "models": []}


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/") for d, _, fs in os.walk(root) for f in fs)


def has_module(name):
    return importlib.util.find_spec(name) is not None


def open_onnx(model_uri):
    """mlflow.onnx.load_model (needs the onnx package) and its graph's inputs and opsets; mlflow.pyfunc.load_model
    only when onnxruntime imports, else the reason it was not tried."""
    opened = {"onnx_loaded": None, "onnx_inputs": None, "onnx_opsets": None, "pyfunc_loaded": None, "pyfunc_skipped": None}
    if has_module("onnx"):
        import mlflow.onnx

        proto = mlflow.onnx.load_model(model_uri)
        opened["onnx_loaded"] = type(proto).__name__
        opened["onnx_inputs"] = [i.name for i in proto.graph.input]
        opened["onnx_opsets"] = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    if has_module("onnxruntime"):
        import mlflow.pyfunc

        opened["pyfunc_loaded"] = type(mlflow.pyfunc.load_model(model_uri)).__name__
    else:
        opened["pyfunc_skipped"] = "onnxruntime is not installed"
    return opened


exp = client.get_experiment_by_name(experiment_name)
for r in client.search_runs([exp.experiment_id]):
    run = {
        "run_id": r.info.run_id,
        "run_name": r.info.run_name,
        "status": r.info.status,
        "params": r.data.params,
        "metrics": r.data.metrics,
        "artifacts": sorted(a.path for a in client.list_artifacts(r.info.run_id)),
    }
    if major >= 3:
        # get_run, as a user would, for the outputs (search_runs does not promise them).
        full = mlflow.get_run(r.info.run_id)
        run["outputs"] = [{"model_id": o.model_id, "step": o.step} for o in (full.outputs.model_outputs if full.outputs else [])]
    else:
        run["model_files"] = sorted(a.path for a in client.list_artifacts(r.info.run_id, "model"))
    if major < 3 and "model/MLmodel" in run["model_files"]:
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(f"runs:/{r.info.run_id}/model/MLmodel", dst_path=tmp)
            mlmodel = Model.load(local)
            run["mlmodel"] = {"run_id": mlmodel.run_id, "artifact_path": mlmodel.artifact_path, "flavors": sorted(mlmodel.flavors)}
        if "onnx" in run["mlmodel"]["flavors"]:
            run["mlmodel"].update(open_onnx(f"runs:/{r.info.run_id}/model"))
    out["runs"].append(run)

if major >= 3:
    for m in mlflow.search_logged_models(experiment_ids=[exp.experiment_id], output_format="list"):
        model_uri = f"models:/{m.model_id}"
        loaded = Model.load(model_uri)
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(model_uri, dst_path=tmp)
            files = {f: os.path.getsize(os.path.join(local, f)) for f in files_under(local)}
        model = {
            "model_id": m.model_id,
            "name": m.name,
            "status": str(m.status),
            "source_run_id": m.source_run_id,
            "metrics": [{"key": x.key, "value": x.value, "step": x.step, "model_id": x.model_id, "run_id": x.run_id} for x in (m.metrics or [])],
            "loaded": {"model_id": loaded.model_id, "run_id": loaded.run_id, "flavors": sorted(loaded.flavors)},
            "files": files,
            "listed_files": {f["path"]: f["size_bytes"] for f in loaded.flavors.get("files", {}).get("files", [])},
        }
        if "onnx" in loaded.flavors:
            model.update(open_onnx(model_uri))
        out["models"].append(model)

mv = client.get_model_version_by_alias(model_name, "champion")
out["champion"] = {"version": mv.version, "run_id": mv.run_id, "source": mv.source, "status": mv.status}
json.dump(out, sys.stdout)
