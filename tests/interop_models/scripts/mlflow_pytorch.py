"""Run in a venv with MLflow 3.17.2 and torch: save MLflow's PyTorch models into OUT_DIR
(their predictions on the features in X_NPY go to OUT_DIR/expected.json), then load each
Skiff model named after '--' with mlflow.pyfunc and mlflow.pytorch and print
{name: predictions} as JSON.

usage: mlflow_pytorch.py OUT_DIR X_NPY -- SKIFF_MODEL_DIR...
"""

import json
import os
import sys

import mlflow.pyfunc
import mlflow.pytorch
import numpy as np
import pandas as pd
import torch

split = sys.argv.index("--")
out, x_path = sys.argv[1:split]
skiff_dirs = sys.argv[split + 1:]
X = np.load(x_path)
frame = pd.DataFrame(X, columns=list("abcd"))
REQS = ["torch", "cloudpickle", "pandas"]
os.makedirs(out, exist_ok=True)


class Doubler(torch.nn.Module):
    """Defined in __main__: pickled by value, as notebooks' models are."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.linear(x) * 2


def predict(model, data):
    with torch.no_grad():
        return model(torch.from_numpy(data)).numpy().tolist()


torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)).eval()
torch.manual_seed(1)
doubler = Doubler().eval()
expected = {}
mlflow.pytorch.save_model(mlp, os.path.join(out, "pt2"), input_example=X[:3],
                          pip_requirements=REQS)
expected["pt2"] = predict(mlp, X)
mlflow.pytorch.save_model(mlp, os.path.join(out, "pickle_df"), serialization_format="pickle",
                          input_example=frame.head(3), pip_requirements=REQS)
expected["pickle_df"] = predict(mlp, X)
mlflow.pytorch.save_model(doubler, os.path.join(out, "custom"), serialization_format="pickle",
                          pip_requirements=REQS)
expected["custom"] = predict(doubler, X)
mlflow.pytorch.save_state_dict(mlp.state_dict(), os.path.join(out, "state_dict"))
expected["state_dict"] = {k: v.tolist() for k, v in mlp.state_dict().items()}
with open(os.path.join(out, "expected.json"), "w") as fh:
    json.dump(expected, fh)

got = {}
for path in skiff_dirs:
    name = os.path.basename(path)
    if name.endswith("state_dict"):
        state = mlflow.pytorch.load_state_dict(path)
        got[name] = {k: v.tolist() for k, v in state.items()}
        continue
    pyfunc_model = mlflow.pyfunc.load_model(path)
    data = frame if name.endswith("_df") else X
    pred = pyfunc_model.predict(data)
    got[name] = np.asarray(pred).tolist()
    got[name + ":raw"] = predict(mlflow.pytorch.load_model(path), X)
    sig = pyfunc_model.metadata.signature
    got[name + ":signature"] = sig.to_dict() if sig is not None else None
print(json.dumps(got))
