import mlflow, os, warnings
warnings.simplefilter("ignore")
root = os.path.abspath("mlruns")
mlflow.set_tracking_uri("file://" + root)
mlflow.set_experiment("capture")
import mlflow.pyfunc
class M(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input
with mlflow.start_run() as run:
    mlflow.log_param("lr", "0.1")
    mlflow.log_metric("acc", 0.5, step=0)
    info = mlflow.pyfunc.log_model(name="mymodel", python_model=M(), params={"p1": "v1"}, tags={"t1": "x"})
    print("model", info.model_id, info.model_uri)
    import numpy as np; ds = mlflow.data.from_numpy(np.array([1,2]), name="evalset")
    mlflow.log_metric("auc", 0.9, step=1, model_id=info.model_id)
    mlflow.log_metric("f1", 0.7, step=2, model_id=info.model_id, dataset=ds)
print(mlflow.get_run(run.info.run_id).outputs)
