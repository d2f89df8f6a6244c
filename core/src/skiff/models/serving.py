"""Serving payload helpers: an input example as a scoring request, and a dry run of a
payload against a model (what ``/invocations`` would answer)."""

from __future__ import annotations

import json


def convert_input_example_to_serving_input(input_example) -> str | None:
    """The JSON body the scoring server accepts for ``input_example``."""
    from skiff.models.input_example import Example

    if input_example is None:
        return None
    return Example(input_example).json_serving


def validate_serving_input(model_uri, serving_input):
    """Predict ``serving_input`` (a scoring request body, as a JSON string or a dict) with
    the model at ``model_uri``, exactly as the scoring server would parse it."""
    from skiff.pyfunc.loading import load_model
    from skiff.pyfunc.scoring_io import parse_invocation_payload

    model = load_model(model_uri)
    body = serving_input if isinstance(serving_input, (str, bytes)) else json.dumps(
        serving_input)
    data, params = parse_invocation_payload(body, "application/json",
                                            model.metadata.get_input_schema())
    return model.predict(data, params=params)
