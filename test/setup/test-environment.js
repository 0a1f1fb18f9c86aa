// The jest environment of every project: Node's, plus logs that appear only for tests that fail.
// Worker, runtime and mock-activity logs ("Activity failed" with a stack, for failures a test provokes
// on purpose) go to a buffer through globalThis.__llmtwinTestLog; when a test fails, its logs are
// printed after it, with what was logged outside any test (set-up hooks) since the file began, so a
// passing run prints results and a failing one still shows what happened, set-up included.
const { TestEnvironment } = require('jest-environment-node');

// Module-level, in jest's outer realm: with --runInBand every test file of a process shares it, which
// matters because the Temporal runtime (and its logger) is installed once per process by the first file.
const KEPT_OUTSIDE_LINES = 500;
let inTest = false;
let testLines = [];
let outsideLines = [];
const sink = (line) => {
  if (inTest) testLines.push(line);
  else outsideLines = [...outsideLines.slice(-(KEPT_OUTSIDE_LINES - 1)), line];
};

function print(title, lines) {
  if (lines.length > 0) process.stderr.write(`\n--- logs of ${title} ---\n${lines.join('\n')}\n--- end of logs ---\n`);
}

class LlmtwinTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__llmtwinTestLog = sink;
    // The AWS SDK's "upgrade to Node 22" notice, once per client package, is not a test result.
    this.global.process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    outsideLines = [];
  }

  handleTestEvent(event) {
    if (event.name === 'test_start') {
      inTest = true;
      testLines = [];
    }
    if (event.name === 'test_done') {
      inTest = false;
      if (event.test.errors.length > 0) {
        const title = [];
        for (let block = event.test; block && block.name !== 'ROOT_DESCRIBE_BLOCK'; block = block.parent) title.unshift(block.name);
        print(`the failed test "${title.join(' > ')}" (set-up first)`, [...outsideLines, ...testLines]);
      }
      testLines = [];
    }
    // A beforeAll/afterAll that fails has no test of its own to print with.
    if (event.name === 'hook_failure' && (event.hook.type === 'beforeAll' || event.hook.type === 'afterAll')) {
      print(`the failed ${event.hook.type} hook`, outsideLines);
    }
  }
}

module.exports = LlmtwinTestEnvironment;
