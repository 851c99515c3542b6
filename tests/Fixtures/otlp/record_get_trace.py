#!/usr/bin/env python3
"""Records how MLflow 3.11.1's server answers for a trace whose spans came over OTLP (not run by the tests).

    cd tests/Fixtures/otlp && PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 record_get_trace.py

In a fresh SQL store (sqlite in a temporary folder): the body typed-attributes.otlp.bin (written by record.py) goes
through MLflow's OTLP endpoint function (mlflow.server.otel_api.export_traces), the trace info through MLflow's Flask
app (POST /api/3.0/mlflow/traces, as the SDK sends it after the spans); then the two reads the SDK's GetTraceAsync makes
are recorded from the Flask app: GET /api/3.0/mlflow/traces/{id} -> traces-get-info.tracking-store.json and
GET /api/3.0/mlflow/traces/get?trace_id={id} (what MLflow's own client reads when the trace's spans are in the
store) -> traces-get.tracking-store.json. The FastAPI app itself cannot run in the harness (see
tests/RealServer/SETUP.md), hence the endpoint function.
"""
import asyncio
import json
import os
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
folder = tempfile.mkdtemp(prefix="otlp-record-")
os.environ["_MLFLOW_SERVER_FILE_STORE"] = "sqlite:///" + os.path.join(folder, "mlflow.db")
os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = os.path.join(folder, "artifacts")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

import mlflow  # noqa: E402
from mlflow.server import app  # noqa: E402
from mlflow.server import otel_api  # noqa: E402
from mlflow.server.handlers import _get_tracking_store  # noqa: E402

TRACE_ID = "tr-5f3c0e0a2b6d4c1e9a8b7c6d5e4f3a2b"  # the trace of typed-attributes.traces.json
store = _get_tracking_store()
experiment_id = store.create_experiment("otlp-record")


class _Request:
    def __init__(self, data):
        self._data = data

    async def body(self):
        return self._data


with open(os.path.join(HERE, "typed-attributes.otlp.bin"), "rb") as f:
    response = asyncio.run(otel_api.export_traces(
        _Request(f.read()), x_mlflow_experiment_id=experiment_id,
        content_type="application/x-protobuf", content_encoding=None, user_agent=None))
assert response.status_code == 200, response.status_code

start = {"trace": {"trace_info": {
    "trace_id": TRACE_ID,
    "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}},
    "request_time": "2025-12-06T05:46:40Z", "execution_duration": "1.200s", "state": "OK",
    "trace_metadata": {"mlflow.trace_schema.version": "3"}, "tags": {"mlflow.traceName": "answer — ünïcode"},
}}}


def record(case, description, method, path, query, status, body):
    entry = {
        "case": case, "description": description, "mlflow_version": mlflow.__version__, "backend": "sqlite",
        "request": {"method": method, "path": path, "query": query},
        "response": {"status": status, "content_type": "application/json", "json": body},
    }
    with open(os.path.join(HERE, case + ".json"), "w", encoding="utf-8") as f:
        json.dump(entry, f, indent=2, ensure_ascii=False)
        f.write("\n")


with app.test_client() as http:
    r = http.post("/api/3.0/mlflow/traces", data=json.dumps(start), content_type="application/json")
    assert r.status_code == 200, r.get_data(as_text=True)
    path = f"/api/3.0/mlflow/traces/{TRACE_ID}"
    r = http.get(path)
    record("traces-get-info.tracking-store", "GetTraceInfoV3 of a trace whose spans came over OTLP (tag mlflow.trace.spansLocation = TRACKING_STORE).",
           "GET", path, {}, r.status_code, r.get_json())
    r = http.get("/api/3.0/mlflow/traces/get", query_string={"trace_id": TRACE_ID})
    record("traces-get.tracking-store", "GetTrace: the trace with its spans as the SQL store holds them (OpenTelemetry spans, attributes as AnyValue).",
           "GET", "/api/3.0/mlflow/traces/get", {"trace_id": TRACE_ID}, r.status_code, r.get_json())
print("recorded in", HERE, "from a store in", folder)
