import type { AwsClients } from '../../platform/aws-clients';

/**
 * A fault layer on the wire for the fault suite: an SDK middleware in each client's deserialize step,
 * inside the SDK's retry loop, so every attempt of every call can fail as AWS and networks do:
 * throttling, a 500, a connection reset before the call, and the hard one, the call made but its
 * answer lost. A seeded sequence decides which, so a failing run can be replayed. `deny` turns a
 * command into AccessDenied every time (the non-retryable path). It also closes moto's one gap that
 * lost answers expose: moto accepts a second create of a name, where SageMaker refuses it ("Cannot
 * create already existing ..." or ResourceInUse); so does this layer, as SageMaker words it, and a
 * create that reaches moto twice for one name is a real duplicate.
 */

export type FaultKind = 'throttle' | 'server' | 'reset' | 'lostAnswer';

export interface FaultLog {
  calls: number;
  injected: Record<FaultKind, number>;
  /** Calls that reached AWS (including those whose answer was then lost), per command. */
  reached: Record<string, number>;
  /** Create calls that took effect, per command and resource name: more than one is a duplicate. */
  effects: Map<string, number>;
  /** Calls answered AccessDenied, per command: a non-retryable error is sent once. */
  denied: Record<string, number>;
}

export interface FaultOptions {
  /** Share of attempts that fail (0-1). */
  share: number;
  seed?: number;
  /** Commands never faulted (moto's runtime answers from a queue a lost answer would drain). */
  spare?: (commandName: string) => boolean;
  /** Commands that always answer AccessDenied. */
  deny?: ReadonlySet<string>;
}

const KINDS: FaultKind[] = ['throttle', 'server', 'reset', 'lostAnswer'];

function serviceError(name: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

const faultError: Record<FaultKind, () => Error> = {
  throttle: () => serviceError('ThrottlingException', 400, 'Rate exceeded'),
  server: () => serviceError('InternalFailure', 500, 'We encountered an internal error. Please try again.'),
  reset: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  lostAnswer: () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
};

/** The field that names what each SageMaker create makes (what "created once" is counted by). */
const NAME_FIELD: Record<string, string> = {
  CreateTrainingJobCommand: 'TrainingJobName',
  CreateProcessingJobCommand: 'ProcessingJobName',
  CreateModelCommand: 'ModelName',
  CreateEndpointConfigCommand: 'EndpointConfigName',
  CreateEndpointCommand: 'EndpointName',
  CreateModelPackageGroupCommand: 'ModelPackageGroupName',
};

function createdName(command: string, input: Record<string, unknown>): string | undefined {
  const value = NAME_FIELD[command] ? input[NAME_FIELD[command]] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export function injectFaults(aws: AwsClients, options: FaultOptions): FaultLog {
  const log: FaultLog = {
    calls: 0,
    injected: { throttle: 0, server: 0, reset: 0, lostAnswer: 0 },
    reached: {},
    effects: new Map(),
    denied: {},
  };
  let state = options.seed ?? 20261203;
  const claimed = new Set<string>();
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const client of Object.values(aws) as Array<{ middlewareStack: AwsClients['s3']['middlewareStack'] }>) {
    client.middlewareStack.add(
      (handler, context) => async (args) => {
        const command = context.commandName ?? '?';
        log.calls += 1;
        if (options.deny?.has(command)) {
          log.denied[command] = (log.denied[command] ?? 0) + 1;
          throw serviceError('AccessDeniedException', 400, `User is not authorized to perform: ${command}`);
        }
        const spared = options.spare?.(command) ?? false;
        const roll = spared ? 1 : next();
        const kind = roll < options.share ? KINDS[Math.floor((roll / options.share) * KINDS.length)]! : undefined;
        if (kind && kind !== 'lostAnswer') {
          log.injected[kind] += 1;
          throw faultError[kind]();
        }
        const name = createdName(command, args.input as Record<string, unknown>);
        const key = `${command}:${name}`;
        // Claimed before the call, so that of two concurrent creates of one name the second is refused, as SageMaker does.
        if (name && claimed.has(key)) throw alreadyExists(command, name);
        if (name) claimed.add(key);
        let result: Awaited<ReturnType<typeof handler>>;
        try {
          result = await handler(args);
        } catch (error) {
          if (name) claimed.delete(key);
          throw error;
        }
        log.reached[command] = (log.reached[command] ?? 0) + 1;
        if (name) log.effects.set(key, (log.effects.get(key) ?? 0) + 1);
        if (kind === 'lostAnswer') {
          log.injected.lostAnswer += 1;
          throw faultError.lostAnswer();
        }
        return result;
      },
      { step: 'deserialize', name: 'injectFaults', priority: 'low' },
    );
  }
  return log;
}

/** SageMaker's answer to a create of a name that exists: ResourceInUse for jobs, a ValidationException for the rest. */
function alreadyExists(command: string, name: string): Error {
  const what = command.replace(/^Create|Command$/g, '');
  if (what.endsWith('Job'))
    return serviceError(
      'ResourceInUse',
      400,
      `${what} names must be unique within an AWS account and region, and a ${what} with this name already exists (${name})`,
    );
  return serviceError(
    'ValidationException',
    400,
    `Cannot create already existing ${what.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} "${name}".`,
  );
}

/** Creates that took effect more than once for the same name. */
export function duplicatesIn(log: FaultLog): string[] {
  return [...log.effects].filter(([, count]) => count > 1).map(([key, count]) => `${key} x${count}`);
}
