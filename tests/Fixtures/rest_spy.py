"""Shared by the fixture recorders that run MLflow's OWN Python client (rest-mlflow3-*/record.py): records every REST
exchange the client makes and writes chosen ones in the fixture format of README.md. Not run by the tests.

    from rest_spy import RestSpy
    spy = RestSpy(out_dir)          # patches mlflow.utils.rest_utils.http_request
    ...                             # call MLflow's APIs
    spy.save("case", "what it shows", spy.last("POST", "/api/3.0/mlflow/datasets/create"))
"""
import json
import os

import mlflow
import mlflow.utils.rest_utils as rest_utils


class RestSpy:
    def __init__(self, out_dir, backend="sqlite"):
        self.out_dir = out_dir
        self.backend = backend
        self.exchanges = []
        original = rest_utils.http_request

        def spy(host_creds, endpoint, method, *args, **kwargs):
            response = original(host_creds, endpoint, method, *args, **kwargs)
            self.exchanges.append((method, endpoint, kwargs.get("json"), kwargs.get("params"), response))
            return response

        rest_utils.http_request = spy

    def last(self, method, suffix):
        """The index of the newest exchange with this method whose path ends with suffix."""
        for i in range(len(self.exchanges) - 1, -1, -1):
            if self.exchanges[i][0] == method and self.exchanges[i][1].endswith(suffix):
                return i
        raise SystemExit(f"no {method} *{suffix} was sent")

    def save(self, case, description, index):
        """Writes exchange `index` as <out_dir>/<case>.json."""
        method, path, body, params, response = self.exchanges[index]
        request = {"method": method, "path": path}
        if params:
            request["query"] = params
        if body is not None:
            request["json"] = body
        out = {"status": response.status_code, "content_type": response.headers.get("Content-Type", "").split(";")[0]}
        text = response.text
        try:
            out["json"] = json.loads(text) if text.strip() else None
        except ValueError:
            out["body_text"] = text
        fixture = {"case": case, "description": description, "mlflow_version": mlflow.__version__, "backend": self.backend,
                   "client": "mlflow python " + mlflow.__version__, "request": request, "response": out}
        with open(os.path.join(self.out_dir, case + ".json"), "w", encoding="utf-8") as f:
            json.dump(fixture, f, indent=2, ensure_ascii=False)
            f.write("\n")
