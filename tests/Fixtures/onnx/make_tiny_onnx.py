"""Writes tiny.onnx, the ONNX model the model-logging tests log: one Relu node, input X and output Y of shape [N, 2] float32.

Made with Debian's python3-onnx 1.12: /usr/bin/python3 tests/Fixtures/onnx/make_tiny_onnx.py (89 bytes, MLflow digest 22f3cd0b).
"""
import os

import onnx
import onnx.helper as h
from onnx import TensorProto

x = h.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])
y = h.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 2])
graph = h.make_graph([h.make_node("Relu", ["X"], ["Y"])], "tiny", [x], [y])
model = h.make_model(graph, producer_name="mlflow-dotnet-tests", opset_imports=[h.make_opsetid("", 13)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.onnx"))
