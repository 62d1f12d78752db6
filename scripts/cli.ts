/**
 * The command line of every script: options declared once with their type, default, range and
 * help; `--help` prints them (exit 0); an unknown option or a bad value is refused in one line that
 * names it (exit 2); a failure while running is reported in one message, without a stack trace
 * (exit 1).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface Common {
  help: string;
  /** What the value stands for in the usage line (DIR, N, MS). */
  placeholder?: string;
}
export type OptionSpec =
  | (Common & { type: 'string'; default?: string; required?: boolean; choices?: readonly string[] })
  | (Common & { type: 'strings'; default?: readonly string[] })
  | (Common & { type: 'int'; default?: number; min?: number; max?: number })
  | (Common & { type: 'number'; default?: number; min?: number; max?: number; exclusiveMin?: boolean })
  | (Common & { type: 'boolean' });

type ValueOf<O extends OptionSpec> = O extends { type: 'boolean' }
  ? boolean
  : O extends { type: 'strings' }
    ? string[]
    : O extends { type: 'int' | 'number'; default: number }
      ? number
      : O extends { type: 'int' | 'number' }
        ? number | undefined
        : O extends { default: string } | { required: true }
          ? string
          : string | undefined;

export type Values<S extends Record<string, OptionSpec>> = { [K in keyof S]: ValueOf<S[K]> };

export interface Command<S extends Record<string, OptionSpec>> {
  /** How it is run, e.g. `npm run profile --`. */
  name: string;
  summary: string;
  options: S;
}

/** A bad command line: printed as one line, exit 2. */
export class UsageError extends Error {}

function usage(command: Command<Record<string, OptionSpec>>): string {
  const lines = [`usage: ${command.name} [options]`, '', command.summary, '', 'options:'];
  const rows = Object.entries(command.options).map(([name, spec]) => {
    const flag = spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.placeholder ?? (spec.type === 'int' || spec.type === 'number' ? 'N' : 'VALUE')}`;
    const facts: string[] = [];
    if ('required' in spec && spec.required === true) facts.push('required');
    if ('choices' in spec && spec.choices !== undefined) facts.push(`one of ${spec.choices.join(', ')}`);
    if ((spec.type === 'int' || spec.type === 'number') && (spec.min !== undefined || spec.max !== undefined)) {
      facts.push(`${spec.min ?? '-inf'} to ${spec.max ?? 'inf'}`);
    }
    if (spec.type === 'strings') facts.push('may be repeated');
    if ('default' in spec && spec.default !== undefined) facts.push(`default ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}`);
    return [flag, `${spec.help}${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`] as const;
  });
  rows.push(['--help', 'print this help and exit']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [...lines, ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`)].join('\n');
}

function convert(name: string, spec: OptionSpec, raw: string | boolean | string[] | undefined): unknown {
  if (spec.type === 'boolean') return raw === true;
  if (spec.type === 'strings') return raw === undefined ? [...(spec.default ?? [])] : (raw as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
  if (raw === undefined) {
    if (spec.type === 'string' && spec.required === true) throw new UsageError(`--${name} is required`);
    return spec.default;
  }
  const text = String(raw);
  if (spec.type === 'string') {
    if (text === '') throw new UsageError(`--${name} needs a value`);
    if (spec.choices !== undefined && !spec.choices.includes(text)) throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, not "${text}"`);
    return text;
  }
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const whole = spec.type === 'int';
  const below = spec.min !== undefined && (spec.type === 'number' && spec.exclusiveMin === true ? value <= spec.min : value < spec.min);
  if (!Number.isFinite(value) || (whole && !Number.isInteger(value)) || below || (spec.max !== undefined && value > spec.max)) {
    const range = spec.min !== undefined || spec.max !== undefined ? ` from ${spec.min ?? '-inf'} to ${spec.max ?? 'inf'}` : '';
    throw new UsageError(`--${name} must be ${whole ? 'an integer' : 'a number'}${range}, not "${text}"`);
  }
  return value;
}

/** Parses `argv` against `command`; on --help prints the usage and exits 0, on a bad option prints one line and exits 2. */
export function parseCli<S extends Record<string, OptionSpec>>(command: Command<S>, argv: readonly string[] = process.argv.slice(2)): Values<S> {
  try {
    return parseOptions(command, argv);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${usage(command)}\n`);
      process.exit(0);
    }
    if (err instanceof UsageError) {
      process.stderr.write(`${command.name}: ${err.message} (see --help)\n`);
      process.exit(2);
    }
    throw err;
  }
}

class HelpRequested extends Error {}

/** The parsing itself, throwing UsageError (or HelpRequested): what tests call. */
export function parseOptions<S extends Record<string, OptionSpec>>(command: Command<S>, argv: readonly string[]): Values<S> {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([name, spec]) => [
      name,
      spec.type === 'boolean' ? { type: 'boolean' as const } : { type: 'string' as const, ...(spec.type === 'strings' ? { multiple: true } : {}) },
    ]),
  );
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    // node:util's messages name the option; keep their first sentence.
    throw new UsageError((err as Error).message.split('. ')[0]!.replace(/\.$/, ''));
  }
  if (values.help === true) throw new HelpRequested();
  return Object.fromEntries(Object.entries(command.options).map(([name, spec]) => [name, convert(name, spec, values[name])])) as Values<S>;
}

/**
 * Runs a script's body: a failure (a missing data folder, a broken artifact) is printed as its
 * message, not a stack trace, and the exit code is 1.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message} (see --help)\n`);
      process.exit(2);
    }
    process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

/** Options most scripts share. */
export const TASK = { type: 'string', required: true, placeholder: 'TASK', help: 'the task: a folder of the zoo directory' } as const;
export const ZOO_DIR = { type: 'string', default: 'zoo', placeholder: 'DIR', help: 'folder of the zoos, one sub-folder per task' } as const;
export const PREMODEL_DIR = { type: 'string', default: 'premodel', placeholder: 'DIR', help: 'folder of the premodels, one sub-folder per task' } as const;
export const DATA_DIR = { type: 'string', placeholder: 'DIR', help: "the task's labelled data (default: its data set's own folder)" } as const;

/** The option of the scripts that work on a split route: a head of the task. */
export const HEAD = {
  type: 'string',
  placeholder: 'HEAD',
  help: "a head of the task (split computing): work on its tails, zoo/<task>/heads/<HEAD>/, fed the task's rows through the head",
} as const;

/** The folder of head `head` in the task folder `taskDir`; a UsageError naming the heads there when it has none. */
export function headFolder(taskDir: string, head: string): string {
  const heads = path.join(taskDir, 'heads');
  const dir = path.join(heads, head);
  if (existsSync(path.join(dir, 'manifest.json'))) return dir;
  const there = existsSync(heads) ? readdirSync(heads).filter((h) => existsSync(path.join(heads, h, 'manifest.json'))) : [];
  throw new UsageError(`--head: task folder ${taskDir}/ has no head "${head}" (heads: ${there.join(', ') || 'none'})`);
}

/** The folder of `task` under `zooDir`; a UsageError naming the tasks there when it has none. */
export function taskFolder(zooDir: string, task: string): string {
  const dir = path.join(zooDir, task);
  if (existsSync(path.join(dir, 'manifest.json'))) return dir;
  const tasks = existsSync(zooDir) ? readdirSync(zooDir).filter((t) => existsSync(path.join(zooDir, t, 'manifest.json'))) : [];
  throw new UsageError(`--task: there is no task "${task}" in ${zooDir}/ (tasks: ${tasks.join(', ') || 'none'})`);
}
