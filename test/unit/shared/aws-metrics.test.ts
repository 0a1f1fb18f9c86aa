import { createServer, type Server } from 'node:http';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { attemptOutcome, describeAttempt, instrumentAwsClients } from '../../../workers/aws-metrics';
import type { AwsClients } from '../../../platform/aws-clients';

/** A meter that keeps what was counted, as `name{tag=value,...}` -> total. */
function recordingMeter(): { meter: MetricMeter; counted: Map<string, number> } {
  const counted = new Map<string, number>();
  const meter = {
    createCounter: (name: string) => ({
      add: (value: number, tags: MetricTags = {}) => {
        const key = `${name}{${Object.entries(tags)
          .map(([tag, tagValue]) => `${tag}=${String(tagValue)}`)
          .join(',')}}`;
        counted.set(key, (counted.get(key) ?? 0) + value);
      },
    }),
  } as unknown as MetricMeter;
  return { meter, counted };
}

describe('AWS attempt metrics', () => {
  it('classifies each attempt as Temporal and the SDK treat it', () => {
    expect(attemptOutcome(undefined)).toBe('ok');
    expect(attemptOutcome({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })).toBe('throttled');
    expect(attemptOutcome({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe('throttled');
    expect(attemptOutcome({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } })).toBe('server_error');
    expect(attemptOutcome({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } })).toBe('client_error');
    expect(attemptOutcome(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('network_error');
  });

  it('counts creations and deletions of resources, not of multipart pieces or tags', () => {
    expect(describeAttempt('SageMakerClient', 'CreateTrainingJobCommand')).toEqual({
      service: 'SageMaker',
      operation: 'CreateTrainingJob',
      change: 'created',
      kind: 'TrainingJob',
    });
    expect(describeAttempt('SageMakerClient', 'DeleteEndpointCommand')).toMatchObject({ change: 'deleted', kind: 'Endpoint' });
    expect(describeAttempt('S3Client', 'CreateMultipartUploadCommand').change).toBeUndefined();
    expect(describeAttempt('SageMakerClient', 'DeleteTagsCommand').change).toBeUndefined();
    expect(describeAttempt('S3Client', 'GetObjectCommand')).toEqual({ service: 'S3', operation: 'GetObject' });
  });

  describe('on a real SDK client', () => {
    let server: Server;
    let answers: number[];
    let url: string;
    beforeAll(async () => {
      server = createServer((request, response) => {
        request.resume();
        const status = answers.shift() ?? 200;
        response.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'req-1' });
        response.end(status === 200 ? '' : '<Error><Code>InternalError</Code><Message>try again</Message></Error>');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('counts every attempt with its outcome, the retries, and a created bucket once', async () => {
      const s3 = new S3Client({
        endpoint: url,
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 3,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      const { meter, counted } = recordingMeter();
      instrumentAwsClients({ s3 } as unknown as AwsClients, meter);
      answers = [500, 500, 200];
      await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: 'x' }));
      answers = [200];
      await s3.send(new CreateBucketCommand({ Bucket: 'bucket' }));
      s3.destroy();
      expect(Object.fromEntries(counted)).toEqual({
        'llmtwin_aws_calls{service=S3,operation=PutObject,outcome=server_error}': 2,
        'llmtwin_aws_calls{service=S3,operation=PutObject,outcome=ok}': 1,
        'llmtwin_aws_retries{service=S3,operation=PutObject}': 2,
        'llmtwin_aws_calls{service=S3,operation=CreateBucket,outcome=ok}': 1,
        'llmtwin_resources_created{service=S3,kind=Bucket}': 1,
      });
    });
  });
});
