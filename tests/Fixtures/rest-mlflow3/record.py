#!/usr/bin/env python3
"""Records the MLflow 3 logged-model scenario of rest-mlflow3/ from a real server (stdlib only).

    python3 record.py http://127.0.0.1:5251 [out-dir]

Each exchange is written as <case>.json in the fixture format of ../README.md. Run it against a fresh
MLflow 3.x server (sqlite backend store, --serve-artifacts); the ids it records are the ones the server returned.
"""
import http.client
import json
import os
import sys
import time
import urllib.parse

BASE = urllib.parse.urlparse(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5251")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
VERSION = None


def send(method, path, body=None, query=None, headers=None):
    conn = http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=30)
    qs = urllib.parse.urlencode(query) if query else ""
    sent = dict(headers or {})
    data = None
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
        data = json.dumps(body)
    conn.request(method, path + ("?" + qs if qs else ""), body=data, headers=sent)
    resp = conn.getresponse()
    raw = resp.read().decode("utf-8")
    ctype = resp.getheader("Content-Type", "")
    conn.close()
    return resp.status, ctype, raw, qs, sent


def record(case, description, method, path, body=None, query=None, headers=None):
    status, ctype, raw, qs, sent = send(method, path, body, query, headers)
    request = {"method": method, "path": path}
    if qs:
        request["query_string"] = qs
        request["query"] = dict(query)
    if sent:
        request["headers"] = sent
    if body is not None:
        request["json"] = body
    response = {"status": status, "content_type": ctype.split(";")[0]}
    try:
        response["json"] = json.loads(raw) if raw.strip() else None
        if response["json"] is None:
            del response["json"]
            response["body_text"] = raw
    except ValueError:
        response["body_text"] = raw
    fixture = {"case": case, "description": description, "mlflow_version": VERSION, "backend": "sqlite",
               "request": request, "response": response}
    with open(os.path.join(OUT, case + ".json"), "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return status, response.get("json")


def main():
    global VERSION
    _, _, VERSION, _, _ = send("GET", "/version")
    VERSION = VERSION.strip()
    record("server-version.ok", "GET /version: the server's MLflow version as plain text.", "GET", "/version")
    record("server-info.ok", "GET /api/3.0/mlflow/server-info (MLflow 3): store type and workspaces.", "GET", "/api/3.0/mlflow/server-info")
    stamp = str(int(time.time()))
    _, _, raw, _, _ = send("POST", "/api/2.0/mlflow/experiments/create", {"name": "rest-mlflow3-" + stamp})
    exp = json.loads(raw)["experiment_id"]
    _, _, raw, _, _ = send("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": exp, "start_time": 1764950000000, "run_name": "trainer"})
    run = json.loads(raw)["run"]["info"]["run_id"]

    _, created = record("logged-models-create.ok", "Creates a logged model with params, tags and its source run: PENDING, artifact_uri under the experiment.",
                        "POST", "/api/2.0/mlflow/logged-models",
                        {"experiment_id": exp, "name": "classifier", "model_type": "Classifier", "source_run_id": run,
                         "params": [{"key": "alpha", "value": "0.5"}], "tags": [{"key": "team", "value": "ml"}]})
    mid = created["model"]["info"]["model_id"]
    record("logged-models-log-params.ok", "Adds params to a logged model: {} (model_id is required in the body too).",
           "POST", f"/api/2.0/mlflow/logged-models/{mid}/params", {"model_id": mid, "params": [{"key": "beta", "value": "2"}]})
    record("logged-models-log-params.again", "The same param again: 400 (sqlite UNIQUE constraint), so log-params must never be re-sent blindly.",
           "POST", f"/api/2.0/mlflow/logged-models/{mid}/params", {"model_id": mid, "params": [{"key": "beta", "value": "2"}]})
    record("logged-models-set-tags.ok", "Sets tags on a logged model (PATCH): {}.",
           "PATCH", f"/api/2.0/mlflow/logged-models/{mid}/tags", {"model_id": mid, "tags": [{"key": "stage", "value": "dev"}, {"key": "tmp", "value": "x"}]})
    record("logged-models-set-tags.again", "The same tags again: 200 (an upsert, safe to repeat).",
           "PATCH", f"/api/2.0/mlflow/logged-models/{mid}/tags", {"model_id": mid, "tags": [{"key": "stage", "value": "dev"}]})
    record("logged-models-delete-tag.slash-key", "A tag key holding '/' (escaped as %2F): the route does not match, 404 HTML.",
           "DELETE", f"/api/2.0/mlflow/logged-models/{mid}/tags/a%2Fb")
    record("logged-models-delete-tag.ok", "Deletes one tag of a logged model (key in the path): {}.",
           "DELETE", f"/api/2.0/mlflow/logged-models/{mid}/tags/tmp")
    record("logged-models-finalize.missing-model-id", "PATCH without model_id in the body: 400 although the id is in the path.",
           "PATCH", f"/api/2.0/mlflow/logged-models/{mid}", {"status": "LOGGED_MODEL_READY"})
    record("logged-models-finalize.ready", "Finalizes a logged model READY: the model as it is now.",
           "PATCH", f"/api/2.0/mlflow/logged-models/{mid}", {"model_id": mid, "status": "LOGGED_MODEL_READY"})
    record("runs-outputs.ok", "Links the logged model to its run as an output at a step: {}.",
           "POST", "/api/2.0/mlflow/runs/outputs", {"run_id": run, "models": [{"model_id": mid, "step": 3}]})
    record("runs-outputs.again", "The same output again: 400 (sqlite UNIQUE constraint), so runs/outputs must never be re-sent blindly.",
           "POST", "/api/2.0/mlflow/runs/outputs", {"run_id": run, "models": [{"model_id": mid, "step": 3}]})
    record("runs-log-inputs.model", "Records the logged model as an input of the run: {}.",
           "POST", "/api/2.0/mlflow/runs/log-inputs", {"run_id": run, "models": [{"model_id": mid}]})
    record("runs-log-metric.model-id", "A metric linked to the logged model and a dataset: {}.",
           "POST", "/api/2.0/mlflow/runs/log-metric",
           {"run_id": run, "key": "accuracy", "value": 0.91, "timestamp": 1764950001000, "step": 3,
            "model_id": mid, "dataset_name": "iris-test", "dataset_digest": "abc123"})
    record("runs-log-batch.model-id", "log-batch with one metric linked to the model and one plain metric: {}.",
           "POST", "/api/2.0/mlflow/runs/log-batch",
           {"run_id": run, "metrics": [
               {"key": "f1", "value": 0.8, "timestamp": 1764950002000, "step": 3, "model_id": mid, "dataset_name": "iris-test", "dataset_digest": "abc123"},
               {"key": "loss", "value": 0.3, "timestamp": 1764950002000, "step": 3}]})
    record("runs-get.with-model-io", "A run with inputs.model_inputs and outputs.model_outputs (MLflow 3).",
           "GET", "/api/2.0/mlflow/runs/get", query={"run_id": run})
    record("logged-models-get.ok", "A READY logged model: params, tags and the metrics linked to it (model_id, dataset, run_id).",
           "GET", f"/api/2.0/mlflow/logged-models/{mid}")
    record("logged-models-get.not-found", "An unknown logged model id: 404 RESOURCE_DOES_NOT_EXIST.",
           "GET", "/api/2.0/mlflow/logged-models/m-00000000000000000000000000000000")
    _, second = record("logged-models-create.minimal", "Only experiment_id and name: no run, params or tags.",
                       "POST", "/api/2.0/mlflow/logged-models", {"experiment_id": exp, "name": "second"})
    second_id = second["model"]["info"]["model_id"]
    record("logged-models-search.ok", "Search by name, newest first.",
           "POST", "/api/2.0/mlflow/logged-models/search",
           {"experiment_ids": [exp], "filter": "name = 'classifier'", "max_results": 10,
            "order_by": [{"field_name": "creation_timestamp", "ascending": False}]})
    record("logged-models-search.page", "One model per page: next_page_token set.",
           "POST", "/api/2.0/mlflow/logged-models/search", {"experiment_ids": [exp], "max_results": 1})
    record("logged-models-delete.ok", "Deletes a logged model: {}.", "DELETE", f"/api/2.0/mlflow/logged-models/{second_id}")
    record("logged-models-delete.again", "Deleting it again: 200 {} on sqlite (deleted models stay as rows).", "DELETE", f"/api/2.0/mlflow/logged-models/{second_id}")
    name = "rest-mlflow3-clf-" + stamp
    send("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
    record("model-versions-create.from-logged-model", "A version whose source is models:/m-<id>: the answer carries no model_id.",
           "POST", "/api/2.0/mlflow/model-versions/create", {"name": name, "source": "models:/" + mid, "run_id": run, "model_id": mid})
    record("model-versions-get-download-uri.logged-model", "The download URI of that version: the logged model's artifact_uri.",
           "GET", "/api/2.0/mlflow/model-versions/get-download-uri", query={"name": name, "version": "1"})
    record("host-guard.invalid-host", "A Host header outside the allowed hosts: 403 text/plain (DNS-rebinding guard).",
           "GET", "/api/2.0/mlflow/experiments/get", query={"experiment_id": "0"}, headers={"Host": "mlflow.example.com"})
    record("host-guard.cross-origin", "A state-changing request with a foreign Origin: 403 text/plain.",
           "POST", "/api/2.0/mlflow/experiments/create", {"name": "cross-origin-" + stamp}, headers={"Origin": "https://evil.example.com"})


if __name__ == "__main__":
    main()
