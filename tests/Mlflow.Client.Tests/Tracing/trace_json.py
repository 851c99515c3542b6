"""What the read-back scripts print of a trace's spans and assessments, as MLflow 3's Python client reads them."""


def assessment(a):
    feedback = getattr(a, "feedback", None)
    error = getattr(a, "error", None)
    return {
        "name": a.name,
        "kind": type(a).__name__,
        "value": a.value,
        "rationale": getattr(a, "rationale", None),
        "source_type": a.source.source_type,
        "source_id": a.source.source_id,
        "error_code": error.error_code if error else None,
        "span_id": a.span_id,
        "run_id": a.run_id,
        "valid": a.valid,
        "overrides": a.overrides,
        "metadata": a.metadata,
        "has_feedback": feedback is not None,
    }


def span(s):
    return {
        "name": s.name,
        "span_type": s.span_type,
        "span_id": s.span_id,
        "parent_id": s.parent_id,
        "inputs": s.inputs,
        "outputs": s.outputs,
        "status": str(s.status.status_code),
        "token_usage": s.get_attribute("mlflow.chat.tokenUsage"),
    }
