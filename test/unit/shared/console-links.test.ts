import { regionOfArn, sageMakerConsoleUrl } from '../../../common/shared/console-links';

it('links each SageMaker resource to its page in its region', () => {
  expect(sageMakerConsoleUrl('eu-west-1', 'training-job', 'llmtwin-train-abc')).toBe(
    'https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/jobs/llmtwin-train-abc',
  );
  expect(sageMakerConsoleUrl('us-east-1', 'processing-job', 'llmtwin-eval-x')).toMatch(/#\/processing-jobs\/llmtwin-eval-x$/);
  expect(sageMakerConsoleUrl('us-east-1', 'endpoint', 'llmtwin-wren')).toMatch(/#\/endpoints\/llmtwin-wren$/);
});

it('reads the region from an ARN, and nothing from what is not one', () => {
  expect(regionOfArn('arn:aws:sagemaker:ap-south-1:123456789012:endpoint/llmtwin-wren')).toBe('ap-south-1');
  expect(regionOfArn('http://127.0.0.1:8080/invocations')).toBeUndefined();
  expect(regionOfArn('arn:aws:iam::123456789012:role/x')).toBeUndefined();
});
