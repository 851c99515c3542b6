#!/usr/bin/env python3
"""Records what MLflow 3.11.1's OWN Python client sends for evaluation datasets, and what the server answers.

    PYTHONPATH=$MLFLOW_SRC:$MLFLOW_SHIMS /usr/bin/python3 record.py http://127.0.0.1:5651 [out-dir]

Runs `mlflow.genai.datasets` (create_dataset, merge_records, get_dataset, to_df, search_datasets, delete_dataset)
against a real server on a SQL store (3.11.1's file store refuses datasets) and writes every REST exchange they made,
in the fixture format of ../README.md, as ../rest-mlflow3-traces/record.py does for traces.
"""
import os
import sys

import mlflow

URI = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5651"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from rest_spy import RestSpy  # noqa: E402

spy = RestSpy(OUT)
save, last = spy.save, spy.last

mlflow.set_tracking_uri(URI)
experiment = mlflow.set_experiment("recorded-datasets")

from mlflow.genai import datasets  # noqa: E402

ds = datasets.create_dataset(name="capitals", experiment_id=[experiment.experiment_id], tags={"stage": "dev"})
save("datasets-create.ok", "create_dataset with an experiment and tags (tags as JSON text).", last("POST", "/api/3.0/mlflow/datasets/create"))
ds.merge_records([
    {"inputs": {"question": "Capital of France?"}, "expectations": {"expected_response": "Paris", "expected_facts": ["Paris"]}},
    {"inputs": {"question": "Capital of Italy?"}, "expectations": {"expected_response": "Rome"}, "tags": {"difficulty": "easy"}},
    {"inputs": {"question": "Say hello"}},
])
save("datasets-upsert-records.ok", "merge_records: the records as JSON text, sources inferred (HUMAN with expectations, CODE without).",
     last("POST", "/records"))
ds.merge_records([{"inputs": {"question": "Capital of Italy?"}, "expectations": {"expected_response": "Roma"}}])
save("datasets-upsert-records.update", "merge_records of a record whose inputs exist: counted as updated.", last("POST", "/records"))
got = datasets.get_dataset(dataset_id=ds.dataset_id)
save("datasets-get.ok", "get_dataset by id.", last("GET", "/api/3.0/mlflow/datasets/" + ds.dataset_id))
got.to_df()
save("datasets-get-records.ok", "to_df: the records, as a JSON text list, one page.", last("GET", "/records"))
datasets.search_datasets(experiment_ids=[experiment.experiment_id], filter_string="name = 'capitals'", max_results=10)
save("datasets-search.ok", "search_datasets with a filter.", last("POST", "/api/3.0/mlflow/datasets/search"))
datasets.delete_dataset(dataset_id=ds.dataset_id)
save("datasets-delete.ok", "delete_dataset.", last("DELETE", "/api/3.0/mlflow/datasets/" + ds.dataset_id))
print(ds.dataset_id)
