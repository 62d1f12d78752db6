/**
 * deploy/k8s and the Dockerfile, checked for what a reviewer of a deployment looks at: every object
 * valid against the Kubernetes schema of its kind and listed in the kustomization; probes,
 * resources and a locked-down container; replicas spread and a disruption budget that lets one go
 * at a time; ports, selectors and the autoscaler's target that agree with each other; an image on a
 * maintained Node LTS that never runs as root. Reads files only: no cluster, no docker.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort';
import { Service } from 'kubernetes-models/v1/Service';
import {
  K8S_DIR,
  KUSTOMIZATION,
  ROOT,
  dockerfileInstructions,
  envVariables,
  loadManifests,
  modelClass,
  readYamlDocuments,
  yamlFiles,
  type Instruction,
  type Manifest,
} from './manifests.js';

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

/** Whether a label selector selects a set of labels (matchLabels and matchExpressions both). */
function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    if (operator === 'In') return has && values.includes(labels[key]!);
    if (operator === 'NotIn') return !has || !values.includes(labels[key]!);
    if (operator === 'Exists') return has;
    if (operator === 'DoesNotExist') return !has;
    throw new Error(`unknown selector operator ${operator}`);
  });
  return byLabels && byExpressions;
}

/** The container port a Service targetPort, a probe or an annotation names (by name or by number). */
function portOf(container: IContainer, port: string | number | undefined): IContainerPort | undefined {
  const asNumber = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  return (container.ports ?? []).find((p) => (typeof asNumber === 'number' ? p.containerPort === asNumber : p.name === asNumber));
}

describe('deploy/k8s: a deployment a reviewer would pass', () => {
  let manifests: Manifest[];
  let instructions: Instruction[];

  /** The one object a guard picks out. */
  function only<T>(guard: (value: unknown) => value is T, what: string): T {
    const found: T[] = [];
    for (const { object } of manifests) if (guard(object)) found.push(object);
    expect(found, `one ${what} in deploy/k8s`).to.have.lengthOf(1);
    return found[0]!;
  }

  before(async () => {
    manifests = await loadManifests();
    instructions = dockerfileInstructions(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  });

  describe('the files', () => {
    it('kustomization.yaml lists every manifest of the folder, and only files that exist', () => {
      const docs = readYamlDocuments(path.join(K8S_DIR, KUSTOMIZATION));
      expect(docs).to.have.lengthOf(1);
      const k = docs[0]!.data as { apiVersion?: string; kind?: string; resources?: string[] };
      expect(k.apiVersion).to.equal('kustomize.config.k8s.io/v1beta1');
      expect(k.kind).to.equal('Kustomization');
      const resources = k.resources ?? [];
      expect(resources.filter((r) => !existsSync(path.join(K8S_DIR, r))), 'listed but missing').to.deep.equal([]);
      expect(new Set(resources).size, 'listed twice').to.equal(resources.length);
      const unlisted = yamlFiles().filter((f) => f !== KUSTOMIZATION && !resources.includes(f));
      expect(unlisted, 'in deploy/k8s but not in kustomization.yaml').to.deep.equal([]);
    });

    it('validates every object against the Kubernetes schema of its apiVersion and kind', () => {
      const problems: string[] = [];
      for (const { file, document, object } of manifests) {
        const where = `${file} document ${document} (${object.kind} ${object.metadata?.name ?? '?'})`;
        try {
          object.validate();
        } catch (e) {
          problems.push(`${where}: ${(e as Error).message}`);
        }
        if (!/^v\d+$/.test(object.apiVersion.split('/').pop()!)) problems.push(`${where}: ${object.apiVersion} is not a GA API version`);
        if (!object.metadata?.name) problems.push(`${where}: no metadata.name`);
        if (object.metadata?.labels?.['app.kubernetes.io/name'] !== 'adaptive-zoo') problems.push(`${where}: no label app.kubernetes.io/name: adaptive-zoo`);
      }
      expect(problems).to.deep.equal([]);
      expect(manifests.map((m) => m.object.kind).sort()).to.deep.equal(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service']);
    });

    it('refuses a kind kubernetes-models does not know, naming the known ones', async () => {
      const err = await modelClass('policy/v1', 'PodDisruptionBugdet').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/no kind "PodDisruptionBugdet" in policy\/v1; its kinds: .*PodDisruptionBudget/);
      const noVersion = await modelClass('policy/v9', 'PodDisruptionBudget').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(noVersion?.message).to.equal('kubernetes-models has no API version "policy/v9" (kind PodDisruptionBudget)');
    });

    it('the schema check has teeth: a port given as a name where a number belongs fails', () => {
      const bad = new Deployment({
        metadata: { name: 'x' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i:1', ports: [{ containerPort: 'http' as unknown as number }] }] } },
        },
      });
      expect(() => bad.validate()).to.throw(/containerPort must be integer/);
    });
  });

  describe('the Deployment', () => {
    let deployment: IDeployment;
    let container: IContainer;
    let podLabels: Record<string, string>;

    before(() => {
      deployment = only(Deployment.is, 'Deployment');
      const containers = deployment.spec!.template.spec!.containers;
      expect(containers).to.have.lengthOf(1);
      container = containers[0]!;
      podLabels = deployment.spec!.template.metadata?.labels ?? {};
    });

    it('runs two or more replicas, selecting its own pods, from a pinned image', () => {
      expect(deployment.spec!.replicas).to.be.at.least(2);
      expect(selects(deployment.spec!.selector, podLabels), 'selector matches the pod template').to.equal(true);
      expect(container.image).to.match(/:[^:/]+$/).and.not.match(/:latest$/);
    });

    it('has startup, readiness and liveness probes on a declared port', () => {
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        const httpGet = container[probe]?.httpGet;
        expect(httpGet, probe).to.not.equal(undefined);
        expect(portOf(container, httpGet!.port), `${probe} port ${httpGet!.port}`).to.not.equal(undefined);
      }
      expect(container.readinessProbe!.httpGet!.path, 'readiness is /readyz, not /healthz').to.equal('/readyz');
    });

    it('requests and limits cpu and memory', () => {
      for (const side of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) expect(container.resources?.[side]?.[resource], `${side}.${resource}`).to.not.equal(undefined);
      }
    });

    it('locks the container down: non-root, read-only root FS, no privilege escalation, no capabilities, no API token', () => {
      const pod = deployment.spec!.template.spec!;
      const sc = container.securityContext ?? {};
      expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, 'runAsNonRoot').to.equal(true);
      expect(sc.readOnlyRootFilesystem, 'readOnlyRootFilesystem').to.equal(true);
      expect(sc.allowPrivilegeEscalation, 'allowPrivilegeEscalation').to.equal(false);
      expect(sc.capabilities?.drop, 'capabilities dropped').to.include('ALL');
      expect(sc.privileged ?? false, 'privileged').to.equal(false);
      expect(pod.automountServiceAccountToken, 'automountServiceAccountToken').to.equal(false);
      expect(pod.hostNetwork ?? false, 'hostNetwork').to.equal(false);
    });

    it('spreads its pods over zones and nodes, and still schedules on one node', () => {
      const constraints = deployment.spec!.template.spec!.topologySpreadConstraints ?? [];
      expect(constraints.map((c) => c.topologyKey).sort()).to.deep.equal(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const c of constraints) {
        expect(c.whenUnsatisfiable, c.topologyKey).to.equal('ScheduleAnyway');
        expect(c.maxSkew, c.topologyKey).to.equal(1);
        expect(selects(c.labelSelector, podLabels), `${c.topologyKey} selects the pods`).to.equal(true);
      }
    });

    it('asks Prometheus to scrape /metrics on the container port', () => {
      const annotations = deployment.spec!.template.metadata?.annotations ?? {};
      expect(annotations['prometheus.io/scrape']).to.equal('true');
      expect(annotations['prometheus.io/path']).to.equal('/metrics');
      const port = portOf(container, annotations['prometheus.io/port']);
      expect(port?.name, `prometheus.io/port ${annotations['prometheus.io/port']} is the http port`).to.equal('http');
    });

    it('takes FEEDBACK_KEY from the required Secret and writes FEEDBACK_DIR on a volume', () => {
      const env = new Map((container.env ?? []).map((e) => [e.name, e]));
      const key = env.get('FEEDBACK_KEY')?.valueFrom?.secretKeyRef;
      expect(key?.name).to.equal('adaptive-zoo-feedback');
      // Not optional: a replica without the shared key would make its own and refuse the others' tokens.
      expect(key?.optional ?? false, 'secretKeyRef.optional').to.equal(false);
      const dir = env.get('FEEDBACK_DIR')?.value;
      const mounts = container.volumeMounts ?? [];
      const mount = mounts.find((m) => dir === m.mountPath || dir?.startsWith(m.mountPath + '/'));
      expect(mount, `a volume at FEEDBACK_DIR ${dir}`).to.not.equal(undefined);
      expect(mount!.readOnly ?? false).to.equal(false);
      expect(mounts.map((m) => m.mountPath), 'a writable /tmp under the read-only root').to.include('/tmp');
      const volumes = (deployment.spec!.template.spec!.volumes ?? []).map((v) => v.name);
      for (const m of mounts) expect(volumes, `volume ${m.name}`).to.include(m.name);
    });
  });

  describe('the objects around it', () => {
    let deployment: IDeployment;
    let container: IContainer;
    let podLabels: Record<string, string>;

    before(() => {
      deployment = only(Deployment.is, 'Deployment');
      container = deployment.spec!.template.spec!.containers[0]!;
      podLabels = deployment.spec!.template.metadata?.labels ?? {};
    });

    it('the Service selects the pods and targets their http port', () => {
      const service = only(Service.is, 'Service');
      expect(selects({ matchLabels: service.spec!.selector ?? {} }, podLabels), 'selector matches the pods').to.equal(true);
      expect(Object.keys(service.spec!.selector ?? {})).to.not.have.lengthOf(0);
      for (const p of service.spec!.ports ?? []) {
        expect(portOf(container, p.targetPort ?? p.port), `targetPort ${p.targetPort} is a container port`).to.not.equal(undefined);
      }
    });

    it('the PodDisruptionBudget selects the pods and lets one go at a time, never blocking a drain', () => {
      const pdb = only(PodDisruptionBudget.is, 'PodDisruptionBudget');
      expect(selects(pdb.spec!.selector, podLabels), 'selector matches the pods').to.equal(true);
      const hpa = only(HorizontalPodAutoscaler.is, 'HorizontalPodAutoscaler');
      const fewest = Math.min(deployment.spec!.replicas ?? 1, hpa.spec!.minReplicas ?? 1);
      const { minAvailable, maxUnavailable } = pdb.spec!;
      expect(minAvailable === undefined || maxUnavailable === undefined, 'minAvailable or maxUnavailable, not both').to.equal(true);
      if (maxUnavailable !== undefined) expect(maxUnavailable).to.equal(1);
      else expect(minAvailable, `minAvailable below the ${fewest} replicas there are at the fewest`).to.be.a('number').and.be.within(1, fewest - 1);
    });

    it('the HorizontalPodAutoscaler scales the Deployment by name, from two replicas', () => {
      const hpa = only(HorizontalPodAutoscaler.is, 'HorizontalPodAutoscaler');
      expect(hpa.spec!.scaleTargetRef).to.deep.equal({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name });
      expect(hpa.spec!.minReplicas).to.be.at.least(2);
      expect(hpa.spec!.maxReplicas).to.be.at.least(hpa.spec!.minReplicas!);
    });
  });

  describe('the Dockerfile', () => {
    it('builds on a node LTS image of major 22 or later', () => {
      const froms = instructions.filter((i) => i.keyword === 'FROM');
      expect(froms).to.not.have.lengthOf(0);
      const image = froms.at(-1)!.args.replace(/^--platform=\S+\s+/, '').split(/\s+/)[0]!;
      const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:\.\d+){0,2}(?:-[a-z0-9.-]+)?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
      expect(m, `${image} is node:<major>[-variant]`).to.not.equal(null);
      const major = Number(m![1]);
      expect(major, image).to.be.at.least(22);
      expect(major % 2, `${image}: Node's LTS lines are the even majors`).to.equal(0);
    });

    it('runs as a non-root USER the pod can check', () => {
      const user = instructions.filter((i) => i.keyword === 'USER').at(-1)?.args.split(':')[0];
      expect(user, 'a USER instruction').to.not.equal(undefined);
      expect(['root', '0']).to.not.include(user);
      // runAsNonRoot cannot check a user given by name: the pod must give a numeric, non-zero one.
      if (!/^\d+$/.test(user!)) {
        const deployment = only(Deployment.is, 'Deployment');
        const pod = deployment.spec!.template.spec!;
        const uid = pod.containers[0]!.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
        expect(uid, `runAsUser for USER ${user}`).to.be.a('number').and.be.above(0);
      }
    });

    it('runs what npm start runs, compiled by npm run build in a stage of its own, with the runtime dependencies alone', () => {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      const cmd = instructions.filter((i) => i.keyword === 'CMD').at(-1)!;
      expect((JSON.parse(cmd.args) as string[]).join(' ')).to.equal(pkg.scripts.start);
      const froms = instructions.flatMap((i, at) => (i.keyword === 'FROM' ? [at] : []));
      const lastFrom = froms.at(-1)!;
      const build = /\bAS\s+(\S+)$/i.exec(froms.length < 2 ? '' : instructions[froms.at(-2)!]!.args)?.[1];
      expect(build, 'a named build stage before the last').to.not.equal(undefined);
      expect(instructions.slice(0, lastFrom).some((i) => i.keyword === 'RUN' && i.args.includes('npm run build'))).to.equal(true);
      const final = instructions.slice(lastFrom);
      expect(final.some((i) => i.keyword === 'COPY' && i.args.startsWith(`--from=${build} `) && i.args.includes('/dist'))).to.equal(true);
      expect(final.filter((i) => i.keyword === 'RUN' && i.args.includes('npm ci')).every((i) => i.args.includes('--omit=dev'))).to.equal(true);
      // What the build stage copies from the context, the context lets in.
      const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');
      for (const file of ['tsconfig.json', 'tsconfig.build.json']) expect(ignore).to.include(`!${file}\n`);
    });

    it('listens on the port the Deployment declares', () => {
      const deployment = only(Deployment.is, 'Deployment');
      const container = deployment.spec!.template.spec!.containers[0]!;
      const imagePort = instructions
        .filter((i) => i.keyword === 'ENV')
        .map((i) => envVariables(i.args).get('PORT'))
        .filter((v) => v !== undefined)
        .at(-1);
      const port = Number(container.env?.find((e) => e.name === 'PORT')?.value ?? imagePort);
      expect(portOf(container, 'http')?.containerPort, 'the http containerPort is the PORT the service reads').to.equal(port);
      const exposed = instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0])));
      expect(exposed).to.include(port);
    });
  });
});
