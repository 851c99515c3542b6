#!/usr/bin/env python3
"""Records what MLflow 3.11.1's OWN file store writes for traces and assessments (the layout LocalFileStore follows).

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 record.py [out-dir]

Writes a fresh store to <out-dir>/mlruns (default: beside this script): one experiment, one run with two traces logged
under it (one OK with a chain, a retriever and a chat model span; one that raised), and assessments of every kind the
file store keeps (feedback string/number/bool/dict/error, expectation string/list, span-level, with metadata, and one
that overrides another). Absolute paths in the files name the folder it was recorded in; tests compare shapes.
"""
import os
import shutil
import sys

import mlflow
from mlflow.entities import AssessmentError, AssessmentSource, SpanType

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
STORE = os.path.join(OUT, "mlruns")
shutil.rmtree(STORE, ignore_errors=True)
mlflow.set_tracking_uri("file://" + STORE)
mlflow.set_experiment("traces-fixture")
judge = AssessmentSource(source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini")
code = AssessmentSource(source_type="CODE", source_id="exact_match")

with mlflow.start_run(run_name="evaluation") as run:
    @mlflow.trace(span_type=SpanType.RETRIEVER)
    def retrieve(query):
        return [{"page_content": "Paris is the capital of France.", "metadata": {"doc_uri": "doc1"}}]

    @mlflow.trace(span_type=SpanType.CHAT_MODEL)
    def chat(messages):
        return {"choices": [{"message": {"role": "assistant", "content": "Paris"}}]}

    @mlflow.trace(name="answer", span_type=SpanType.CHAIN)
    def answer(question):
        retrieve(question)
        return chat([{"role": "user", "content": question}])["choices"][0]["message"]["content"]

    @mlflow.trace(name="failing", span_type=SpanType.TOOL)
    def failing(x):
        raise ValueError("no answer for " + x)

    answer("What is the capital of France?")
    ok = mlflow.get_last_active_trace_id()
    chat_span = [s for s in mlflow.get_trace(ok).data.spans if s.name == "chat"][0].span_id
    try:
        failing("é")
    except ValueError:
        pass
    failed = mlflow.get_last_active_trace_id()

    first = mlflow.log_feedback(trace_id=ok, name="correctness", value="no", rationale="First opinion.", source=judge)
    mlflow.log_feedback(trace_id=ok, name="correctness", value="yes", rationale="It says Paris.", source=judge,
                        metadata={"mlflow.assessment.sourceRunId": run.info.run_id})
    mlflow.override_feedback(trace_id=ok, assessment_id=first.assessment_id, value="yes", rationale="Overridden.",
                             source=AssessmentSource(source_type="HUMAN", source_id="reviewer"))
    mlflow.log_feedback(trace_id=ok, name="score", value=0.75, source=code)
    mlflow.log_feedback(trace_id=ok, name="exact", value=True, source=code, span_id=chat_span)
    mlflow.log_feedback(trace_id=ok, name="details", value={"hits": 2, "docs": ["doc1", None]}, source=code)
    mlflow.log_feedback(trace_id=ok, name="safety", source=judge,
                        error=AssessmentError(error_code="RateLimit", error_message="429 from the judge"))
    mlflow.log_expectation(trace_id=ok, name="expected_response", value="Paris")
    mlflow.log_expectation(trace_id=ok, name="expected_facts", value=["Paris", "France"])
    mlflow.log_feedback(trace_id=failed, name="correctness", value="no", source=judge)

print(run.info.experiment_id, run.info.run_id, ok, failed)
