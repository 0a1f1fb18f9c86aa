"""llmtwin's local inference server: the SageMaker serving contract (GET /ping, POST /invocations) over a
Hugging Face model folder, with the CloudWatch metrics SageMaker publishes for its endpoints."""
