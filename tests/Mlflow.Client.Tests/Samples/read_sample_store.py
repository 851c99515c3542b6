# MLflow's own client reads what samples/ModelEvaluation wrote to a local store: argv[1] the store folder, argv[2] the experiment.
import glob, json, os, sys
import mlflow
import mlflow.onnx

root = sys.argv[1]
uri = "file:" + root
client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
mlflow.set_tracking_uri(uri)
exp = client.get_experiment_by_name(sys.argv[2])
runs = client.search_runs([exp.experiment_id])
out = {"runs": []}
for r in runs:
    table = client.load_table(exp.experiment_id, "eval_results_table.json", run_ids=[r.info.run_id])
    out["runs"].append({
        "run_id": r.info.run_id,
        "status": r.info.status,
        "params": r.data.params,
        "metrics": r.data.metrics,
        "artifacts": sorted(a.path for a in client.list_artifacts(r.info.run_id)),
        "inputs": [(d.dataset.name, {t.key: t.value for t in d.tags}) for d in r.inputs.dataset_inputs],
        "table_rows": len(table),
        "table_columns": sorted(table.columns),
    })
# The logged models' folders (MLflow 3's layout, <experiment>/models/m-<id>/artifacts), opened by mlflow.onnx as a path:
# MLflow 2's Python reads them so too, though it knows no logged models.
out["onnx_models"] = []
for folder in sorted(glob.glob(os.path.join(root, exp.experiment_id, "models", "m-*", "artifacts"))):
    proto = mlflow.onnx.load_model(folder)
    out["onnx_models"].append({"model_id": os.path.basename(os.path.dirname(folder)), "inputs": [i.name for i in proto.graph.input]})
mv = client.get_model_version_by_alias("sentiment-classifier", "champion")
out["champion"] = {"version": mv.version, "run_id": mv.run_id}
json.dump(out, sys.stdout)
