#!/usr/bin/env python3
"""Feeds what the .NET SDK sends for a trace into MLflow 3.11.1's own server code and reads the trace back with
MLflow's own client, printing what it sees as JSON (for OtlpMlflowContractTests).

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 otlp_into_mlflow.py init DIR
    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 otlp_into_mlflow.py ingest DIR EXPERIMENT_ID OTLP_FILE START_JSON_FILE

init: a SQL store (sqlite, DIR/mlflow.db, artifacts under DIR/artifacts) with an experiment and a run; prints their ids.
ingest, in the order the SDK sends (and MLflow's own exporter does):
  1. OTLP_FILE (the body of POST /v1/traces) parsed as MLflow's endpoint parses it (ExportTraceServiceRequest,
     Span.from_otel_proto), and each span's attributes as MLflow then holds them;
  2. MLflow's OTLP endpoint function (mlflow.server.otel_api.export_traces) called with an empty body (the SDK's probe)
     and with OTLP_FILE, header x-mlflow-experiment-id = EXPERIMENT_ID, on the store of step init;
  3. START_JSON_FILE (the body of POST /api/3.0/mlflow/traces) posted to MLflow's Flask app (its test client);
  4. mlflow.get_trace and mlflow.search_traces(run_id=...) through MLflow's client on the same store.
The FastAPI app itself cannot run here (the harness's fastapi is a stub, see tests/RealServer/SETUP.md), so step 2
calls the endpoint's function directly: the same parsing, checks and store.log_spans call.
"""
import asyncio
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

mode, folder = sys.argv[1], os.path.abspath(sys.argv[2])
db_uri = "sqlite:///" + os.path.join(folder, "mlflow.db")
artifacts = os.path.join(folder, "artifacts")
os.environ["_MLFLOW_SERVER_FILE_STORE"] = db_uri
os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = artifacts

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_json import span  # noqa: E402 (beside this script)

if mode == "init":
    os.makedirs(folder, exist_ok=True)
    client = MlflowClient(tracking_uri=db_uri)
    experiment_id = client.create_experiment("otlp-contract", artifact_location=artifacts)
    run = client.create_run(experiment_id)
    print(json.dumps({"version": mlflow.__version__, "experiment_id": experiment_id, "run_id": run.info.run_id}))
    sys.exit(0)

experiment_id, otlp_file, start_file = sys.argv[3], sys.argv[4], sys.argv[5]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402

from mlflow.entities.span import Span  # noqa: E402
from mlflow.server import app  # noqa: E402
from mlflow.server import otel_api  # noqa: E402

with open(otlp_file, "rb") as f:
    body = f.read()
with open(start_file, encoding="utf-8") as f:
    start_json = f.read()

out = {"version": mlflow.__version__}

# 1. MLflow's own parsing of the bytes.
parsed = ExportTraceServiceRequest()
parsed.ParseFromString(body)
out["resource_spans"] = len(parsed.resource_spans)
out["parsed"] = []
for rs in parsed.resource_spans:
    for ss in rs.scope_spans:
        for proto_span in ss.spans:
            received = Span.from_otel_proto(proto_span)
            out["parsed"].append({
                "trace_id": received.trace_id,
                "span_id": received.span_id,
                "parent_id": received.parent_id,
                "name": received.name,
                "start_time_ns": received.start_time_ns,
                "end_time_ns": received.end_time_ns,
                "status": str(received.status.status_code),
                "status_message": received.status.description,
                # the attributes as MLflow holds them: JSON text, as traces.json has them
                "raw_attributes": dict(received._span.attributes),
                "events": [{"name": e.name, "timestamp": e.timestamp, "attributes": e.attributes} for e in received.events],
            })


# 2. MLflow's OTLP endpoint function: the probe, then the spans.
class _Request:
    def __init__(self, data):
        self._data = data

    async def body(self):
        return self._data


def export(data):
    try:
        response = asyncio.run(otel_api.export_traces(
            _Request(data),
            x_mlflow_experiment_id=experiment_id,
            content_type="application/x-protobuf",
            content_encoding=None,
            user_agent="mlflow-dotnet-contract-test",
        ))
        return {"status": response.status_code, "detail": None}
    except otel_api.HTTPException as e:
        return {"status": e.status_code, "detail": e.detail}


out["probe"] = export(b"")
out["export"] = export(body)

# 3. The trace info through MLflow's Flask app, as the SDK posts it.
with app.test_client() as http:
    r = http.post("/api/3.0/mlflow/traces", data=start_json, content_type="application/json")
    out["start_status"] = r.status_code
    out["start_answer"] = r.get_json()

# 4. Read back with MLflow's client.
mlflow.set_tracking_uri(db_uri)
trace_id = json.loads(start_json)["trace"]["trace_info"]["trace_id"]
trace = mlflow.get_trace(trace_id)
out["trace"] = {
    "trace_id": trace.info.trace_id,
    "state": str(trace.info.state),
    "request_time": trace.info.request_time,
    "execution_duration": trace.info.execution_duration,
    "request_preview": trace.info.request_preview,
    "response_preview": trace.info.response_preview,
    "tags": trace.info.tags,
    "metadata": trace.info.trace_metadata,
    "token_usage": trace.info.token_usage,
    "spans": [{
        **span(s),
        "status_message": s.status.description,
        "attributes": s.attributes,
        "events": [{"name": e.name, "attributes": e.attributes} for e in s.events],
    } for s in trace.data.spans],
}
run_id = trace.info.trace_metadata.get("mlflow.sourceRun")
out["run_traces"] = [t.info.trace_id for t in mlflow.search_traces(experiment_ids=[experiment_id], run_id=run_id, return_type="list")] if run_id else []
out["artifacts"] = sorted(
    os.path.relpath(os.path.join(d, f), artifacts) for d, _, files in os.walk(artifacts) for f in files
)
print(json.dumps(out, default=str))
