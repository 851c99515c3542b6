#!/usr/bin/env python3
"""Records what MLflow 3.11.1's OWN Python client sends for traces and assessments, and what the server answers.

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 record.py http://127.0.0.1:5621 [out-dir]

Unlike ../rest-mlflow3/record.py (which sends hand-written bodies), this runs MLflow's tracing and assessment APIs
(`@mlflow.trace`, `mlflow.log_feedback`, ...) against a real server and writes every REST exchange they made, in the
fixture format of ../README.md, plus the `traces.json` the exporter uploaded (`traces-data.python.json`, copied from
the server's artifact folder given as the third argument when it is on this machine).
"""
import os
import shutil
import sys

import mlflow
from mlflow.entities import AssessmentSource, Feedback, SpanType

URI = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5621"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = sys.argv[3] if len(sys.argv) > 3 else None

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from rest_spy import RestSpy  # noqa: E402

spy = RestSpy(OUT)
save, last = spy.save, spy.last

mlflow.set_tracking_uri(URI)
experiment = mlflow.set_experiment("recorded-traces")


@mlflow.trace(span_type=SpanType.RETRIEVER)
def retrieve(query):
    return [{"page_content": "Paris est la capitale de la France.", "metadata": {"doc_uri": "doc-1"}}]


@mlflow.trace(span_type=SpanType.CHAT_MODEL)
def chat(messages):
    return {"choices": [{"message": {"role": "assistant", "content": "Paris"}}]}


@mlflow.trace(span_type=SpanType.TOOL)
def broken_tool(x):
    raise ValueError("tool failed")


@mlflow.trace(span_type=SpanType.AGENT)
def answer(question: str):
    retrieve(question)
    try:
        broken_tool(1)
    except ValueError:
        pass
    return chat([{"role": "user", "content": question}])["choices"][0]["message"]["content"]


with mlflow.start_run() as run:
    answer("Quelle est la capitale de la France ?")
trace_id = mlflow.get_last_active_trace_id()
save("traces-start.python", "StartTraceV3 as the Python exporter sends it at the end of a trace (no OTLP endpoint).",
     last("POST", "/api/3.0/mlflow/traces"))

feedback = mlflow.log_feedback(trace_id=trace_id, name="correctness", value=True, rationale="It names Paris.",
                               source=AssessmentSource(source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini"))
save("assessments-create.feedback", "log_feedback with an LLM judge source and a rationale.", last("POST", "/assessments"))
mlflow.log_feedback(trace_id=trace_id, name="relevance", value=0.75, source=AssessmentSource(source_type="CODE", source_id="relevance_scorer"),
                    metadata={"mlflow.assessment.sourceRunId": run.info.run_id}, span_id=None)
save("assessments-create.feedback-number", "A numeric feedback from code, tied to a run through its metadata.", last("POST", "/assessments"))
mlflow.log_feedback(trace_id=trace_id, name="safety", error=ValueError("judge unavailable"),
                    source=AssessmentSource(source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini"))
save("assessments-create.feedback-error", "A feedback that failed: error instead of value.", last("POST", "/assessments"))
mlflow.log_expectation(trace_id=trace_id, name="expected_response", value="Paris")
save("assessments-create.expectation", "A string expectation (proto Value).", last("POST", "/assessments"))
mlflow.log_expectation(trace_id=trace_id, name="expected_facts", value=["Paris", "France"])
save("assessments-create.expectation-list", "A list expectation: serialized as JSON_FORMAT text.", last("POST", "/assessments"))
mlflow.update_assessment(trace_id=trace_id, assessment_id=feedback.assessment_id,
                         assessment=Feedback(name="correctness", value=False, rationale="Changed my mind."))
save("assessments-update.feedback", "update_assessment: assessment with ids, the changed fields and the update mask.",
     last("PATCH", feedback.assessment_id))
mlflow.get_assessment(trace_id, feedback.assessment_id)
save("assessments-get.ok", "get_assessment.", last("GET", feedback.assessment_id))
mlflow.get_trace(trace_id)
save("traces-get-info.ok", "GetTraceInfoV3 (what get_trace reads before the trace data).", last("GET", trace_id))
mlflow.search_traces(locations=[experiment.experiment_id], return_type="list", max_results=10, order_by=["timestamp_ms DESC"],
                     filter_string="tags.mlflow.traceName = 'answer'")
save("traces-search.ok", "SearchTracesV3 with a filter and an order.", last("POST", "/api/3.0/mlflow/traces/search"))
mlflow.set_trace_tag(trace_id, "reviewed", "yes")
save("traces-set-tag.ok", "set_trace_tag (v2 path).", last("PATCH", "/tags"))
mlflow.delete_trace_tag(trace_id, "reviewed")
save("traces-delete-tag.ok", "delete_trace_tag (v2 path, JSON body on DELETE).", last("DELETE", "/tags"))
mlflow.MlflowClient().link_traces_to_run([trace_id], run.info.run_id)
save("traces-link-to-run.ok", "link_traces_to_run.", last("POST", "/link-to-run"))
mlflow.delete_assessment(trace_id, feedback.assessment_id)
save("assessments-delete.ok", "delete_assessment.", last("DELETE", feedback.assessment_id))

if ARTIFACTS:
    source = os.path.join(ARTIFACTS, experiment.experiment_id, "traces", trace_id, "artifacts", "traces.json")
    shutil.copyfile(source, os.path.join(OUT, "traces-data.python.json"))

# A second trace to delete, so the recording keeps one delete-traces exchange.
with mlflow.start_span("to-delete") as span:
    span.set_inputs({"x": 1})
doomed = mlflow.get_last_active_trace_id()
mlflow.MlflowClient().delete_traces(experiment_id=experiment.experiment_id, trace_ids=[doomed])
save("traces-delete.ok", "delete_traces by id (v2 path).", last("POST", "/delete-traces"))
print(trace_id)
