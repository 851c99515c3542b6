#!/usr/bin/env python3
"""Writes the OTLP bodies MLflow 3.11.1's own REST store sends on POST /v1/traces for known spans (not run by the tests).

    cd tests/Fixtures/otlp && PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS python3 record.py

MLFLOW_SRC is an MLflow 3.11.1 source tree, MLFLOW_SHIMS its shims (opentelemetry-proto), see tests/RealServer/SETUP.md
section 6. For each CASE.traces.json here (hand-written inputs in MLflow's traces.json format:
typed-attributes.traces.json holds attribute values of every JSON type, an unfinished span with an unset status and
an event with plain attributes; and ../rest-mlflow3-traces/traces-data.python.json, the file MLflow's
exporter uploaded), the spans are read with MLflow's Span.from_dict and the request body is built as
RestStore.log_spans builds it (an ExportTraceServiceRequest with the spans' resource, one ScopeSpans, and each
span's Span.to_otel_proto()); it is written to CASE.otlp.bin. OtlpTraceWriterTests checks that the SDK writes the same
bytes for the same spans.
"""
import glob
import json
import os

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from mlflow.entities.span import Span
from mlflow.tracing.utils.otlp import resource_to_otel_proto

HERE = os.path.dirname(os.path.abspath(__file__))


def otlp_body(traces_json_path):
    with open(traces_json_path, encoding="utf-8") as f:
        spans = [Span.from_dict(s) for s in json.load(f)["spans"]]
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.CopyFrom(resource_to_otel_proto(getattr(spans[0]._span, "resource", None)))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.spans.extend(span.to_otel_proto() for span in spans)
    return request.SerializeToString()


cases = {os.path.basename(p)[: -len(".traces.json")]: p for p in glob.glob(os.path.join(HERE, "*.traces.json"))}
cases["traces-data.python"] = os.path.join(HERE, "..", "rest-mlflow3-traces", "traces-data.python.json")
for name, path in sorted(cases.items()):
    body = otlp_body(path)
    with open(os.path.join(HERE, name + ".otlp.bin"), "wb") as f:
        f.write(body)
    print(f"{name}.otlp.bin: {len(body)} bytes")
