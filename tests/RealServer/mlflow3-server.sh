#!/usr/bin/env bash
# Kept so existing commands (and MLFLOW_TEST_SERVER_CONTROL values) keep working: the MLflow 3.x harness is
# mlflow-server.sh with MLFLOW_LINE=3 (defaults $HOME/mlflow-harness/mlflow3-src and shims3). See SETUP.md, section 6.
MLFLOW_LINE=3 exec "$(dirname "${BASH_SOURCE[0]}")/mlflow-server.sh" "$@"
