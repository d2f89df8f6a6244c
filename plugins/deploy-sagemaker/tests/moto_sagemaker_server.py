"""moto's server with the two SageMaker calls it lacks (UpdateEndpoint, StopTransformJob),
and one test switch: an endpoint tagged ``skiff-test-fail`` goes to Failed, like an
endpoint whose container does not start. Run as ``python moto_sagemaker_server.py -p PORT``.
"""

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker import models, responses


def _update_endpoint(self):
    name = self._get_param("EndpointName")
    config_name = self._get_param("EndpointConfigName")
    backend = self.sagemaker_backend
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        backend.describe_endpoint(name)  # raises moto's "Could not find endpoint"
    config = backend.describe_endpoint_config(config_name)
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"])
    return ActionResult({"EndpointArn": endpoint.arn})


def _stop_transform_job(self):
    job = self.sagemaker_backend.transform_jobs[self._get_param("TransformJobName")]
    job.transform_job_status = "Stopped"
    return EmptyResult()


_create_endpoint = models.SageMakerModelBackend.create_endpoint


def _create_endpoint_that_may_fail(self, endpoint_name, endpoint_config_name, tags):
    endpoint = _create_endpoint(self, endpoint_name, endpoint_config_name, tags)
    for tag in tags or []:
        if tag["Key"] == "skiff-test-fail":
            endpoint.endpoint_status = "Failed"
            endpoint.failure_reason = tag["Value"]
    return endpoint


responses.SageMakerResponse.update_endpoint = _update_endpoint
responses.SageMakerResponse.stop_transform_job = _stop_transform_job
models.SageMakerModelBackend.create_endpoint = _create_endpoint_that_may_fail

if __name__ == "__main__":
    from moto.server import main

    main()
