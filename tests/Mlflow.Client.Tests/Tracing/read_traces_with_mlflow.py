#!/usr/bin/env python3
"""Reads traces back with MLflow 3's own Python client and prints what it sees as JSON (for the .NET tests).

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 read_traces_with_mlflow.py TRACKING_URI EXPERIMENT_ID [RUN_ID]

TRACKING_URI is a server (http://...) or a local store (file:///...). Uses mlflow.search_traces over the experiment,
mlflow.search_traces(run_id=...) for the run, and mlflow.get_trace for each trace's spans and assessments.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")
import mlflow  # noqa: E402
from trace_json import assessment, span  # noqa: E402 (beside this script)

uri, experiment_id = sys.argv[1], sys.argv[2]
run_id = sys.argv[3] if len(sys.argv) > 3 else None
mlflow.set_tracking_uri(uri)

out = {"version": mlflow.__version__, "traces": []}
for info in mlflow.search_traces(experiment_ids=[experiment_id], return_type="list"):
    trace = mlflow.get_trace(info.info.trace_id)
    out["traces"].append({
        "trace_id": trace.info.trace_id,
        "state": str(trace.info.state),
        "request_time": trace.info.request_time,
        "execution_duration": trace.info.execution_duration,
        "source_run": trace.info.trace_metadata.get("mlflow.sourceRun"),
        "trace_name": trace.info.tags.get("mlflow.traceName"),
        "request_preview": trace.info.request_preview,
        "response_preview": trace.info.response_preview,
        "spans": [span(s) for s in trace.data.spans],
        "assessments": [assessment(a) for a in trace.info.assessments],
    })
if run_id:
    out["run_traces"] = sorted(t.info.trace_id for t in mlflow.search_traces(experiment_ids=[experiment_id], run_id=run_id, return_type="list"))
print(json.dumps(out, default=str))
