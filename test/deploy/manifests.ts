/**
 * Reads what ships the service, for test/deploy/k8s.test.ts: the Kubernetes manifests of deploy/k8s
 * as kubectl reads them (YAML 1.1, every document of every file), each turned into the
 * kubernetes-models class of its apiVersion and kind so that it validates against the Kubernetes
 * OpenAPI schema; and the Dockerfile's instructions. Unknown kinds fail with the list of known ones.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S_DIR = path.join(ROOT, 'deploy', 'k8s');
export const KUSTOMIZATION = 'kustomization.yaml';

/** What every Kubernetes object has, as a kubernetes-models instance. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Throws (a kubernetes-models ValidationError) naming the first field that breaks the schema. */
  validate(): void;
}

interface KubeClass {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: object): KubeObject;
}

/** One object of one YAML document, where it came from. */
export interface Manifest {
  readonly file: string;
  /** 1-based document number within the file. */
  readonly document: number;
  readonly object: KubeObject;
}

/** The exported classes of a kubernetes-models module that are kinds of an apiVersion, by kind. */
function kindsOf(mod: Record<string, unknown>, apiVersion: string): Map<string, KubeClass> {
  const classes = new Map<string, KubeClass>();
  for (const value of Object.values(mod)) {
    if (typeof value !== 'function') continue;
    const candidate = value as unknown as Partial<KubeClass>;
    if (candidate.apiVersion === apiVersion && typeof candidate.kind === 'string') classes.set(candidate.kind, value as unknown as KubeClass);
  }
  return classes;
}

/**
 * The class kubernetes-models has for an apiVersion and kind; rejects an unknown one, listing the
 * known. Imports the kind's own module (kubernetes-models/apps/v1/Deployment): the index of a
 * version loads every kind of it, a quarter of a second for v1.
 */
export async function modelClass(apiVersion: string, kind: string): Promise<KubeClass> {
  const own = /^[A-Z][A-Za-z0-9]*$/.test(kind)
    ? await import(`kubernetes-models/${apiVersion}/${kind}`).then((m: Record<string, unknown>) => kindsOf(m, apiVersion).get(kind), () => undefined)
    : undefined;
  if (own !== undefined) return own;
  let index: Record<string, unknown>;
  try {
    index = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
  } catch {
    throw new Error(`kubernetes-models has no API version "${apiVersion}" (kind ${kind})`);
  }
  const known = [...kindsOf(index, apiVersion).keys()].sort();
  throw new Error(`kubernetes-models has no kind "${kind}" in ${apiVersion}; its kinds: ${known.join(', ')}`);
}

/** Every document of a YAML file as plain data, read as YAML 1.1 like kubectl (sigs.k8s.io/yaml); empty documents left out. */
export function readYamlDocuments(file: string): { document: number; data: unknown }[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1', prettyErrors: true });
  if (!Array.isArray(docs)) return []; // an empty file
  const out: { document: number; data: unknown }[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${path.relative(ROOT, file)} document ${i + 1}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const data: unknown = doc.toJS();
    if (data !== null && data !== undefined) out.push({ document: i + 1, data });
  });
  return out;
}

/** The YAML files of deploy/k8s, by name. */
export function yamlFiles(): string[] {
  return readdirSync(K8S_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
}

/** Every Kubernetes object of deploy/k8s (the kustomization file left out), not yet validated. */
export async function loadManifests(): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const file of yamlFiles()) {
    if (file === KUSTOMIZATION) continue;
    for (const { document, data } of readYamlDocuments(path.join(K8S_DIR, file))) {
      const where = `${file} document ${document}`;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${where}: not a Kubernetes object (a mapping)`);
      const { apiVersion, kind } = data as { apiVersion?: unknown; kind?: unknown };
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw new Error(`${where}: no apiVersion and kind`);
      const Model = await modelClass(apiVersion, kind).catch((e: Error) => {
        throw new Error(`${where}: ${e.message}`);
      });
      out.push({ file, document, object: new Model(data) });
    }
  }
  return out;
}

/** A Dockerfile instruction: its keyword in upper case and its arguments (continuation lines joined). */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** 1-based line where it starts. */
  readonly line: number;
}

/** The instructions of a Dockerfile, comments and blank lines left out. */
export function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!.trim();
      line = line.slice(0, -1).trimEnd() + (next.startsWith('#') ? '' : ' ' + next);
    }
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: start + 1 });
  }
  return out;
}

/** The variables an ENV instruction sets (`ENV A=1 B="x y"` or the old `ENV A 1`). */
export function envVariables(args: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!/^[^\s=]+=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    if (m !== null) out.set(m[1]!, m[2]!);
    return out;
  }
  for (const m of args.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) out.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, '$2'));
  return out;
}
