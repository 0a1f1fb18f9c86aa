import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type PutScalingPolicyCommandInput,
  type RegisterScalableTargetCommandInput,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteTagsCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  ListTagsCommand,
  ResourceInUse,
  SageMakerClient,
  UpdateEndpointCommand,
  type CreateEndpointConfigCommandInput,
  type CreateModelCommandInput,
  type Tag,
  type UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { sdkError } from './fake-training-jobs';

/**
 * SageMaker's endpoint API as it really behaves where moto falls short: endpoints that take time
 * (Creating, Updating with a PendingDeploymentSummary), UpdateEndpoint, a blue/green update that AWS
 * rolls back, Failed with a FailureReason, names that refuse a second create; plus Application Auto
 * Scaling and the runtime. State is kept, so tests assert what exists afterwards, not only the calls.
 */

const ACCOUNT = 'arn:aws:sagemaker:us-east-1:123456789012';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

interface FakeEndpoint {
  name: string;
  configName: string;
  /** Statuses still to come, one per describe; the last stays. */
  script: string[];
  status: string;
  pending?: string;
  /** What an update ends as: the new config serving, or AWS rolling back to the old one. */
  updateOutcome?: 'in-service' | 'rolled-back';
  failureReason?: string;
}

export type EndpointScript = string[];

export class ScriptedEndpoints {
  readonly sagemaker = new SageMakerClient({ region: 'us-east-1', credentials });
  readonly autoscaling = new ApplicationAutoScalingClient({ region: 'us-east-1', credentials });
  readonly runtime = new SageMakerRuntimeClient({ region: 'us-east-1', credentials });
  readonly models = new Map<string, CreateModelCommandInput>();
  readonly configs = new Map<string, CreateEndpointConfigCommandInput>();
  readonly endpoints = new Map<string, FakeEndpoint>();
  readonly tags = new Map<string, Map<string, string>>();
  readonly targets = new Map<string, RegisterScalableTargetCommandInput>();
  readonly policies = new Map<string, PutScalingPolicyCommandInput>();
  readonly calls: Array<{ command: string; input: unknown }> = [];
  /** Statuses a new endpoint goes through. */
  createScript: EndpointScript = ['Creating', 'Creating', 'InService'];
  /** Statuses an update goes through before its outcome. */
  updateScript: EndpointScript = ['Updating', 'Updating'];
  updateOutcome: 'in-service' | 'rolled-back' = 'in-service';
  failureReason = 'The primary container for production variant AllTraffic did not pass the ping health check.';
  /** Errors the next calls of a command throw, first in first out. */
  readonly failNext = new Map<string, Error[]>();
  /** What InvokeEndpoint answers (the body's JSON). */
  answer: (body: unknown) => unknown = () => ({ choices: [{ message: { role: 'assistant', content: 'I write about harbours.' } }] });
  /** The model package DescribeModelPackage answers. */
  modelPackage: { arn: string; status: string; modelUri: string } | undefined;

  constructor() {
    const sm = mockClient(this.sagemaker);
    const on =
      <I>(command: string, handler: (input: I) => unknown) =>
      (input: I) => {
        this.calls.push({ command, input });
        const queued = this.failNext.get(command);
        const failure = queued?.shift();
        if (failure) throw failure;
        return handler(input);
      };
    sm.on(CreateModelCommand).callsFake(on('CreateModel', (input: CreateModelCommandInput) => this.createModel(input)));
    sm.on(DescribeModelCommand).callsFake(on('DescribeModel', (input: { ModelName: string }) => this.describeModel(input.ModelName)));
    sm.on(DeleteModelCommand).callsFake(
      on('DeleteModel', (input: { ModelName: string }) => this.deleteFrom(this.models, input.ModelName, 'model')),
    );
    sm.on(CreateEndpointConfigCommand).callsFake(
      on('CreateEndpointConfig', (input: CreateEndpointConfigCommandInput) => this.createConfig(input)),
    );
    sm.on(DescribeEndpointConfigCommand).callsFake(
      on('DescribeEndpointConfig', (input: { EndpointConfigName: string }) => this.describeConfig(input.EndpointConfigName)),
    );
    sm.on(DeleteEndpointConfigCommand).callsFake(
      on('DeleteEndpointConfig', (input: { EndpointConfigName: string }) =>
        this.deleteFrom(this.configs, input.EndpointConfigName, 'endpoint-config'),
      ),
    );
    sm.on(CreateEndpointCommand).callsFake(
      on('CreateEndpoint', (input: { EndpointName: string; EndpointConfigName: string; Tags?: Tag[] }) => this.createEndpoint(input)),
    );
    sm.on(DescribeEndpointCommand).callsFake(
      on('DescribeEndpoint', (input: { EndpointName: string }) => this.describeEndpoint(input.EndpointName)),
    );
    sm.on(UpdateEndpointCommand).callsFake(on('UpdateEndpoint', (input: UpdateEndpointCommandInput) => this.updateEndpoint(input)));
    sm.on(DeleteEndpointCommand).callsFake(
      on('DeleteEndpoint', (input: { EndpointName: string }) => this.deleteEndpoint(input.EndpointName)),
    );
    sm.on(ListTagsCommand).callsFake(on('ListTags', (input: { ResourceArn: string }) => this.listTags(input.ResourceArn)));
    sm.on(AddTagsCommand).callsFake(
      on('AddTags', (input: { ResourceArn: string; Tags: Tag[] }) => this.addTags(input.ResourceArn, input.Tags)),
    );
    sm.on(DeleteTagsCommand).callsFake(
      on('DeleteTags', (input: { ResourceArn: string; TagKeys: string[] }) => {
        for (const key of input.TagKeys) this.tags.get(input.ResourceArn)?.delete(key);
        return {};
      }),
    );
    sm.on(DescribeModelPackageCommand).callsFake(
      on('DescribeModelPackage', () => {
        if (!this.modelPackage) throw sdkError('ValidationException', 'ModelPackage does not exist.');
        return {
          ModelPackageArn: this.modelPackage.arn,
          ModelPackageVersion: 1,
          ModelApprovalStatus: this.modelPackage.status,
          InferenceSpecification: { Containers: [{ Image: 'training-image', ModelDataUrl: this.modelPackage.modelUri }] },
        };
      }),
    );

    const aas = mockClient(this.autoscaling);
    aas.on(RegisterScalableTargetCommand).callsFake(
      on('RegisterScalableTarget', (input: RegisterScalableTargetCommandInput) => {
        this.targets.set(input.ResourceId as string, input);
        return {};
      }),
    );
    aas.on(PutScalingPolicyCommand).callsFake(
      on('PutScalingPolicy', (input: PutScalingPolicyCommandInput) => {
        if (!this.targets.has(input.ResourceId as string))
          throw sdkError('ObjectNotFoundException', `No scalable target registered for ${input.ResourceId}`);
        this.policies.set(`${input.ResourceId}:${input.PolicyName}`, input);
        return { PolicyARN: `arn:aws:autoscaling:policy/${input.PolicyName}` };
      }),
    );
    aas.on(DescribeScalableTargetsCommand).callsFake(
      on('DescribeScalableTargets', (input: { ResourceIds: string[] }) => ({
        ScalableTargets: input.ResourceIds.flatMap((id) => {
          const target = this.targets.get(id);
          return target ? [{ ...target }] : [];
        }),
      })),
    );
    aas.on(DescribeScalingPoliciesCommand).callsFake(
      on('DescribeScalingPolicies', (input: { ResourceId: string }) => ({
        ScalingPolicies: [...this.policies.values()].filter((policy) => policy.ResourceId === input.ResourceId),
      })),
    );
    aas.on(DeleteScalingPolicyCommand).callsFake(
      on('DeleteScalingPolicy', (input: { ResourceId: string; PolicyName: string }) => {
        this.policies.delete(`${input.ResourceId}:${input.PolicyName}`);
        return {};
      }),
    );
    aas.on(DeregisterScalableTargetCommand).callsFake(
      on('DeregisterScalableTarget', (input: { ResourceId: string }) => {
        this.targets.delete(input.ResourceId);
        return {};
      }),
    );

    mockClient(this.runtime)
      .on(InvokeEndpointCommand)
      .callsFake(
        on('InvokeEndpoint', (input: { EndpointName: string; Body: string }) => {
          const endpoint = this.endpoints.get(input.EndpointName);
          if (!endpoint) throw sdkError('ValidationException', `Endpoint ${input.EndpointName} of account 123456789012 not found.`);
          return { Body: new TextEncoder().encode(JSON.stringify(this.answer(JSON.parse(input.Body)))) };
        }),
      );
  }

  count(command: string): number {
    return this.calls.filter((call) => call.command === command).length;
  }

  inputsOf<T>(command: string): T[] {
    return this.calls.filter((call) => call.command === command).map((call) => call.input as T);
  }

  arnOf(kind: 'model' | 'endpoint-config' | 'endpoint', name: string): string {
    return `${ACCOUNT}:${kind}/${name.toLowerCase()}`;
  }

  tagsOf(kind: 'model' | 'endpoint-config' | 'endpoint', name: string): Record<string, string> {
    return Object.fromEntries(this.tags.get(this.arnOf(kind, name)) ?? []);
  }

  /** An endpoint that already serves, as an earlier deployment left it. */
  seedEndpoint(name: string, configName: string, modelName: string, tags: Tag[]): void {
    this.models.set(modelName, { ModelName: modelName, PrimaryContainer: { Image: 'old-image', ModelDataUrl: 's3://b/old/model.tar.gz' } });
    this.addTags(this.arnOf('model', modelName), tags);
    this.configs.set(configName, {
      EndpointConfigName: configName,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: modelName, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
    });
    this.addTags(this.arnOf('endpoint-config', configName), tags);
    this.endpoints.set(name, { name, configName, script: [], status: 'InService' });
    this.addTags(this.arnOf('endpoint', name), tags);
  }

  private addTags(arn: string, tags: Tag[] = []) {
    const held = this.tags.get(arn) ?? new Map<string, string>();
    for (const tag of tags) held.set(tag.Key as string, tag.Value ?? '');
    this.tags.set(arn, held);
    return {};
  }

  private listTags(arn: string) {
    const held = this.tags.get(arn);
    if (!held) throw sdkError('ValidationException', `Resource ${arn} not found`, 400);
    return { Tags: [...held].map(([Key, Value]) => ({ Key, Value })) };
  }

  private exists(kind: string, name: string): Error {
    return new ResourceInUse({
      message: `Cannot create already existing ${kind} "${this.arnOf(kind as 'model', name)}".`,
      $metadata: { httpStatusCode: 400 },
    });
  }

  private missing(kind: string, name: string): Error {
    return sdkError('ValidationException', `Could not find ${kind} "${this.arnOf(kind as 'model', name)}".`);
  }

  private createModel(input: CreateModelCommandInput) {
    const name = input.ModelName as string;
    if (this.models.has(name)) throw this.exists('model', name);
    this.models.set(name, input);
    this.addTags(this.arnOf('model', name), input.Tags);
    return { ModelArn: this.arnOf('model', name) };
  }

  private describeModel(name: string) {
    const model = this.models.get(name);
    if (!model) throw this.missing('model', name);
    return { ModelName: name, ModelArn: this.arnOf('model', name), PrimaryContainer: model.PrimaryContainer };
  }

  private createConfig(input: CreateEndpointConfigCommandInput) {
    const name = input.EndpointConfigName as string;
    if (this.configs.has(name)) throw this.exists('endpoint-config', name);
    this.configs.set(name, input);
    this.addTags(this.arnOf('endpoint-config', name), input.Tags);
    return { EndpointConfigArn: this.arnOf('endpoint-config', name) };
  }

  private describeConfig(name: string) {
    const config = this.configs.get(name);
    if (!config) throw this.missing('endpoint-config', name);
    return {
      EndpointConfigName: name,
      EndpointConfigArn: this.arnOf('endpoint-config', name),
      ProductionVariants: config.ProductionVariants,
    };
  }

  private deleteFrom(map: Map<string, unknown>, name: string, kind: 'model' | 'endpoint-config') {
    if (!map.delete(name)) throw this.missing(kind, name);
    this.tags.delete(this.arnOf(kind, name));
    return {};
  }

  private createEndpoint(input: { EndpointName: string; EndpointConfigName: string; Tags?: Tag[] }) {
    if (this.endpoints.has(input.EndpointName)) throw this.exists('endpoint', input.EndpointName);
    if (!this.configs.has(input.EndpointConfigName)) throw this.missing('endpoint-config', input.EndpointConfigName);
    const [status, ...script] = this.createScript;
    this.endpoints.set(input.EndpointName, {
      name: input.EndpointName,
      configName: input.EndpointConfigName,
      status: status as string,
      script,
    });
    this.addTags(this.arnOf('endpoint', input.EndpointName), input.Tags);
    return { EndpointArn: this.arnOf('endpoint', input.EndpointName) };
  }

  private updateEndpoint(input: UpdateEndpointCommandInput) {
    const endpoint = this.endpoints.get(input.EndpointName as string);
    if (!endpoint) throw this.missing('endpoint', input.EndpointName as string);
    if (endpoint.status !== 'InService')
      throw sdkError('ValidationException', `Cannot update in-progress endpoint "${this.arnOf('endpoint', endpoint.name)}".`);
    if (!this.configs.has(input.EndpointConfigName as string)) throw this.missing('endpoint-config', input.EndpointConfigName as string);
    const [status, ...script] = this.updateScript;
    Object.assign(endpoint, { status, script, pending: input.EndpointConfigName, updateOutcome: this.updateOutcome });
    return { EndpointArn: this.arnOf('endpoint', endpoint.name) };
  }

  private describeEndpoint(name: string) {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) throw this.missing('endpoint', name);
    const answer = {
      EndpointName: name,
      EndpointArn: this.arnOf('endpoint', name),
      EndpointConfigName: endpoint.configName,
      EndpointStatus: endpoint.status,
      ...(endpoint.pending ? { PendingDeploymentSummary: { EndpointConfigName: endpoint.pending } } : {}),
      ...(endpoint.failureReason ? { FailureReason: endpoint.failureReason } : {}),
    };
    this.advance(endpoint);
    return answer;
  }

  private advance(endpoint: FakeEndpoint) {
    const next = endpoint.script.shift();
    if (next !== undefined) {
      endpoint.status = next;
      if (next === 'Failed') endpoint.failureReason = this.failureReason;
      return;
    }
    if (endpoint.pending && endpoint.status === 'Updating') {
      if (endpoint.updateOutcome === 'rolled-back') endpoint.failureReason = 'Deployment rolled back: an alarm fired (latency-p99).';
      else endpoint.configName = endpoint.pending;
      endpoint.status = 'InService';
      delete endpoint.pending;
    }
  }

  private deleteEndpoint(name: string) {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) throw this.missing('endpoint', name);
    if (['Creating', 'Updating'].includes(endpoint.status))
      throw sdkError('ValidationException', `Cannot delete in-progress endpoint "${this.arnOf('endpoint', name)}".`);
    this.endpoints.delete(name);
    this.tags.delete(this.arnOf('endpoint', name));
    return {};
  }
}
