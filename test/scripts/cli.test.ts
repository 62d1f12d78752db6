import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseOptions, UsageError } from '../../scripts/cli.js';

const run = promisify(execFile);

/** Runs `node --import tsx <file> ...args`; its exit code and output. */
async function node(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file, ...args], { env: { ...process.env, WORKERS: '1' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const command = {
  name: 'npm run example --',
  summary: 'An example.',
  options: {
    task: { type: 'string', required: true, help: 'the task' },
    runs: { type: 'int', default: 5, min: 1, max: 10, help: 'runs' },
    rate: { type: 'number', min: 0, exclusiveMin: true, help: 'a rate' },
    mode: { type: 'string', default: 'a', choices: ['a', 'b'], help: 'the mode' },
    parts: { type: 'strings', default: ['x', 'y'], help: 'parts' },
    quick: { type: 'boolean', help: 'quickly' },
  },
} as const;

describe('scripts/cli', () => {
  it('parses typed options with their defaults', () => {
    expect(parseOptions(command, ['--task', 't'])).to.deep.equal({ task: 't', runs: 5, rate: undefined, mode: 'a', parts: ['x', 'y'], quick: false });
    expect(parseOptions(command, ['--task=t', '--runs', '7', '--rate', '0.5', '--mode', 'b', '--parts', 'p,q', '--parts', 'r', '--quick'])).to.deep.equal({
      task: 't',
      runs: 7,
      rate: 0.5,
      mode: 'b',
      parts: ['p', 'q', 'r'],
      quick: true,
    });
  });

  it('refuses, in one message naming it, an unknown option, a missing one, and every value out of its type or range', () => {
    const cases: [string[], RegExp][] = [
      [['--task', 't', '--bogus'], /Unknown option '--bogus'/],
      [[], /--task is required/],
      [['--task', 't', '--runs', 'abc'], /--runs must be an integer from 1 to 10, not "abc"/],
      [['--task', 't', '--runs', '2.5'], /--runs must be an integer/],
      [['--task', 't', '--runs', '11'], /--runs must be an integer from 1 to 10/],
      [['--task', 't', '--rate', '0'], /--rate must be a number from 0/],
      [['--task', 't', '--mode', 'c'], /--mode must be one of a, b, not "c"/],
      [['--task', 't', 'stray'], /Unexpected argument 'stray'/],
    ];
    for (const [argv, message] of cases) expect(() => parseOptions(command, argv), argv.join(' ')).to.throw(UsageError, message);
  });

  it('every npm script of the project parses its command line with it', async () => {
    const { scripts } = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    for (const [name, line] of Object.entries(scripts)) {
      const file = /^tsx (\S+\.ts)$/.exec(line)?.[1];
      if (file === undefined) {
        expect(['build', 'prestart', 'start', 'typecheck', 'test'], `${name}: ${line}`).to.include(name);
        continue;
      }
      const source = await readFile(file, 'utf8');
      expect(source, `${name} (${file})`).to.match(/\bparseCli\(/);
    }
  });

  it('a script answers --help with its options (exit 0) and a bad value with one line (exit 2)', async function () {
    this.timeout(20_000);
    const [help, bad, unknown] = await Promise.all([
      node('scripts/profile.ts', ['--help']),
      node('scripts/profile.ts', ['--task', 'fashion', '--threads', 'abc']),
      node('scripts/evaluate.ts', ['--task', 'no-such-task']),
    ]);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^usage: npm run profile -- \[options\]/).and.match(/--threads N\s+onnxruntime intra-op threads per session \(1 to 256; default 1\)/);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim().split('\n')).to.deep.equal(['npm run profile --: --threads must be an integer from 1 to 256, not "abc" (see --help)']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/--task: there is no task "no-such-task" in zoo\/ \(tasks: fashion, har, har-acc\)/);
  });

  it('npm start answers --help with the environment it reads, and refuses arguments', async function () {
    this.timeout(20_000);
    const [help, bad] = await Promise.all([node('src/main.ts', ['--help']), node('src/main.ts', ['--port', '80'])]);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/PORT\s+TCP port the service listens on \(default 8080\)/);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/unknown argument "--port"/);
  });
});
