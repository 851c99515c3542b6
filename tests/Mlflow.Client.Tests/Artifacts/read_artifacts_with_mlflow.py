"""Lists and reads a run's artifacts with MLflow's own Python client and prints what it sees as JSON (used by ArtifactsRealServerTests)."""
import hashlib
import json
import sys
import tempfile

import mlflow
import yaml
from mlflow.tracking import MlflowClient


def main(tracking_uri, run_id, texts, dicts):
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    files = {}

    def walk(path):
        for f in client.list_artifacts(run_id, path):
            if f.is_dir:
                walk(f.path)
            else:
                files[f.path] = f.file_size

    walk(None)
    out = {"files": files, "hashes": {}, "texts": {}, "dicts": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=tmp)
            with open(local, "rb") as f:
                out["hashes"][path] = hashlib.sha256(f.read()).hexdigest().upper()
    for path in texts.split(","):
        out["texts"][path] = mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")
    for path in dicts.split(","):
        uri = f"runs:/{run_id}/{path}"
        # MLflow 2.12's load_dict reads JSON only: YAML files are read as text and parsed as PyYAML does
        is_yaml = path.endswith((".yaml", ".yml"))
        out["dicts"][path] = yaml.safe_load(mlflow.artifacts.load_text(uri)) if is_yaml else mlflow.artifacts.load_dict(uri)
    json.dump(out, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
