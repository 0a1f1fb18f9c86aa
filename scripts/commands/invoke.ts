import type { Command } from 'commander';
import { localServingFor } from '../../platform/local-endpoints';
import type { CliContext } from '../cli-context';
import { CliError, EXIT_CODES, NotFoundError, UsageError } from '../cli-errors';
import { numberFlag } from '../cli-input';
import { printJson } from '../cli-output';
import type * as invokeModule from '../../client/invoke';

/**
 * `llmtwin invoke <endpoint> "prompt"`: asks a deployed twin, streaming its answer as it is written
 * (`--json` waits for the whole answer). The same client other services use (client/invoke.ts).
 */
export function registerInvoke(command: Command, context: CliContext): void {
  command
    .argument('<endpoint>', 'the endpoint (llmtwin deploy printed it; llmtwin endpoints list shows them)')
    .argument('<prompt>', 'what to ask the twin')
    .option('--max-tokens <n>', 'at most this many tokens in the answer', '256')
    .option('--temperature <t>', 'sampling temperature, 0 for the most likely answer', '0.7')
    .option('--system <text>', 'a system prompt before yours')
    .option('--legacy', 'send the TGI-era {"inputs", "parameters"} body instead of OpenAI chat')
    .option('--json', 'print the whole answer as JSON (no streaming)')
    .action(
      async (
        endpointName: string,
        prompt: string,
        options: { maxTokens: string; temperature: string; system?: string; legacy?: boolean; json?: boolean },
      ) => {
        const maxTokens = numberFlag(options.maxTokens, '--max-tokens') as number;
        const temperature = numberFlag(options.temperature, '--temperature') as number;
        if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 4096)
          throw new UsageError('--max-tokens: a whole number from 1 to 4096');
        if (temperature < 0 || temperature > 2) throw new UsageError('--temperature: a number from 0 to 2');
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the AWS SDK loads only when the command runs
        const { EndpointUnavailableError, invokeTwin, openTwin } = require('../../client/invoke') as typeof invokeModule;
        const { config } = context;
        const aws = context.aws();
        const local = localServingFor(config);
        let twin;
        try {
          twin = await openTwin({ sagemaker: aws.sagemaker, runtime: aws.sagemakerRuntime }, endpointName, local);
        } catch (error) {
          if (error instanceof EndpointUnavailableError) {
            if (error.status === null) throw new NotFoundError(error.message);
            throw new CliError(error.message, EXIT_CODES.runFailed);
          }
          throw error;
        }
        const asked = {
          maxTokens,
          temperature,
          ...(options.system ? { system: options.system } : {}),
          ...(options.legacy ? { format: 'legacy' as const } : {}),
        };
        if (options.json) {
          const answer = await invokeTwin(twin, prompt, asked);
          printJson({ endpointName, answer: answer.text, latencyMs: answer.latencyMs });
          return;
        }
        const answer = await invokeTwin(twin, prompt, { ...asked, onToken: (text) => process.stdout.write(text) });
        process.stdout.write('\n');
        process.stderr.write(`(${answer.latencyMs} ms)\n`);
      },
    );
}
