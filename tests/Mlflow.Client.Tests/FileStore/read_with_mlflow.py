"""Reads a local store with MLflow's own FileStore and prints what it sees as JSON (used by RealMlflowReadTests)."""
import json
import math
import sys

from mlflow.entities import ViewType
from mlflow.store.tracking.file_store import FileStore


def num(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return repr(v)
    return v


def main(root):
    store = FileStore(root)
    out = {"experiments": [], "runs": []}
    for exp in store.search_experiments(view_type=ViewType.ALL, max_results=1000):
        out["experiments"].append({
            "id": exp.experiment_id, "name": exp.name, "lifecycle_stage": exp.lifecycle_stage,
            "artifact_location": exp.artifact_location, "tags": dict(exp.tags),
        })
        runs = store.search_runs([exp.experiment_id], "", ViewType.ALL, max_results=1000)
        for run in runs:
            info = run.info
            history = {}
            for key in run.data.metrics:
                history[key] = [[m.timestamp, num(m.value), m.step] for m in store.get_metric_history(info.run_id, key)]
            out["runs"].append({
                "run_id": info.run_id, "experiment_id": info.experiment_id, "run_name": info.run_name,
                "status": info.status, "lifecycle_stage": info.lifecycle_stage, "user_id": info.user_id,
                "start_time": info.start_time, "end_time": info.end_time, "artifact_uri": info.artifact_uri,
                "params": run.data.params, "tags": run.data.tags,
                "metrics": {k: num(v) for k, v in run.data.metrics.items()}, "history": history,
                "inputs": [{"name": d.dataset.name, "digest": d.dataset.digest, "source": d.dataset.source,
                            "tags": {t.key: t.value for t in d.tags}} for d in run.inputs.dataset_inputs],
            })
    json.dump(out, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main(sys.argv[1])
