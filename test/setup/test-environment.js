// The jest environment of every project: Node's, plus logs that appear only for tests that fail.
// Worker, runtime and mock-activity logs ("Activity failed" with a stack, for failures a test provokes
// on purpose) go to a buffer through globalThis.__llmtwinTestLog; when a test fails, its buffer is
// printed after it, so a passing run prints results and a failing one still shows what happened.
const { TestEnvironment } = require('jest-environment-node');

// Module-level, in jest's outer realm: with --runInBand every test file of a process shares it, which
// matters because the Temporal runtime (and its logger) is installed once per process by the first file.
let buffer = [];
const sink = (line) => {
  buffer.push(line);
};

class LlmtwinTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__llmtwinTestLog = sink;
    // The AWS SDK's "upgrade to Node 22" notice, once per client package, is not a test result.
    this.global.process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  }

  handleTestEvent(event) {
    if (event.name === 'test_start') buffer = [];
    if (event.name === 'test_done' && event.test.errors.length > 0 && buffer.length > 0) {
      const title = [];
      for (let block = event.test; block && block.name !== 'ROOT_DESCRIBE_BLOCK'; block = block.parent) title.unshift(block.name);
      process.stderr.write(`\n--- logs of the failed test "${title.join(' > ')}" ---\n${buffer.join('\n')}\n--- end of logs ---\n`);
    }
    if (event.name === 'test_done') buffer = [];
  }
}

module.exports = LlmtwinTestEnvironment;
