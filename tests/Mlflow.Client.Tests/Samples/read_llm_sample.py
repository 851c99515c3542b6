#!/usr/bin/env python3
"""MLflow 3's own Python reads back what samples/LlmEvaluation logged and prints it as JSON (for the .NET tests).

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 read_llm_sample.py TRACKING_URI EXPERIMENT_NAME

TRACKING_URI is a server (http://...) or a local store (file:///...). Prints the experiment's runs (status, tags,
params, metrics, dataset inputs) and, for each run, the traces mlflow.search_traces(run_id=...) finds with their spans,
assessments and metadata, plus the count of traces over the whole experiment.
"""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")
import mlflow  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tracing"))
from trace_json import assessment, span  # noqa: E402

uri, experiment_name = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
client = mlflow.MlflowClient(tracking_uri=uri)
experiment = client.get_experiment_by_name(experiment_name)
if experiment is None:
    sys.exit(f"no experiment named {experiment_name} at {uri}")


def trace(found):
    # search_traces gives the info with the spans; get_trace reads the same trace by id, as the UI's trace view does.
    t = mlflow.get_trace(found.info.trace_id)
    return {
        "trace_id": t.info.trace_id,
        "state": str(t.info.state),
        "source_run": t.info.trace_metadata.get("mlflow.sourceRun"),
        "trace_name": t.info.tags.get("mlflow.traceName"),
        "request_preview": t.info.request_preview,
        "searched_span_count": len(found.data.spans),
        "spans": [span(s) for s in t.data.spans],
        "assessments": [assessment(a) for a in t.info.assessments],
    }


out = {"version": mlflow.__version__, "experiment_id": experiment.experiment_id, "runs": []}
for run in client.search_runs([experiment.experiment_id]):
    run_id = run.info.run_id
    traces = mlflow.search_traces(experiment_ids=[experiment.experiment_id], run_id=run_id, return_type="list", max_results=1000)
    out["runs"].append({
        "run_id": run_id,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.source.")},
        "params": run.data.params,
        "metrics": run.data.metrics,
        "inputs": [{
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "source_type": d.dataset.source_type,
            "tags": {t.key: t.value for t in d.tags},
        } for d in run.inputs.dataset_inputs],
        "traces": [trace(t) for t in traces],
    })
out["experiment_trace_count"] = len(mlflow.search_traces(experiment_ids=[experiment.experiment_id], return_type="list", max_results=1000))
print(json.dumps(out, default=str))
