"""Times MLflow's own FileStore.log_batch (batches of 1000 metrics over 10 keys), for comparison with the
'filestore' console run. Usage (Debian python, MLflow from source):
PYTHONPATH=$HOME/mlflow-harness/mlflow-src:$HOME/mlflow-harness/shims GIT_PYTHON_REFRESH=quiet \
  /usr/bin/python3 tests/Mlflow.Client.Benchmarks/FileStoreMlflowBaseline.py [batches=20]"""
import shutil
import sys
import tempfile
import time

from mlflow.entities import Metric
from mlflow.store.tracking.file_store import FileStore

batches = int(sys.argv[1]) if len(sys.argv) > 1 else 20
root = tempfile.mkdtemp(prefix="mlflow-py-fs-")
try:
    store = FileStore(root + "/mlruns")
    run = store.create_run("0", "bench", 0, [], "throughput")
    run_id = run.info.run_id
    made = [[Metric(f"metric_{i % 10}", 1.0 / (i + 3), 1_700_000_000_000 + b * 100 + i // 10, b * 100 + i // 10) for i in range(1000)]
            for b in range(batches)]
    store.log_batch(run_id, made[0], [], [])
    start = time.perf_counter()
    for b in range(1, batches):
        store.log_batch(run_id, made[b], [], [])
    elapsed = time.perf_counter() - start
    total = (batches - 1) * 1000
    print(f"mlflow FileStore: {total} points in {batches - 1} batches of 1000 over 10 keys: {elapsed * 1000:.0f} ms = {total / elapsed:,.0f} points/s")
finally:
    shutil.rmtree(root)
