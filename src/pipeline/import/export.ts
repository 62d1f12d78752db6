/**
 * The inverse of the import: a task of the repository written as a team would bring it (models/
 * with `<id>.onnx`, labels.txt and zoo.json; data/ with the premodel and test parts in the folder
 * layout), each input in its kind's own wire form (an image as the PNG a client uploads, a window
 * as the JSON samples). Importing that again must give the same task: how the import path is
 * checked against the built-in zoos, and how a task is handed to another team.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { taskInputs } from '../../inputs/registry.js';
import type { ZooManifest } from '../../zoo/manifest.js';
import { classFolder } from '../datasets/folder.js';
import type { EvaluationSplits } from '../datasets/splits.js';
import { progress } from '../progress.js';
import type { PreprocessingHints, ZooSpec } from './spec.js';

const EXTENSIONS: Readonly<Record<string, string>> = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/webp': '.webp' };

/** What zoo.json must say of a model for the import to give back its manifest entry. */
function hintsOf(prep: ZooManifest['models'][number]['input']['preprocessing']): PreprocessingHints {
  const { type: _type, ...fields } = prep as Record<string, unknown>;
  const hints: Record<string, unknown> = {};
  for (const key of ['width', 'height', 'fit', 'background', 'mean', 'std', 'layout', 'sampleRateHz', 'channelNames']) {
    if (fields[key] !== undefined) hints[key] = fields[key];
  }
  return hints as PreprocessingHints;
}

export function zooSpecOf(manifest: ZooManifest): ZooSpec {
  return {
    $comment: `Exported from task "${manifest.task}" by npm run export-task.`,
    splits: { ...manifest.splits },
    models: Object.fromEntries(
      manifest.models.map((m) => [
        m.id,
        {
          description: m.description,
          compression: { method: m.compression.method, parent: m.compression.parent },
          preprocessing: hintsOf(m.input.preprocessing),
          output: m.output.kind,
          ...(m.testTimeAugmentation === undefined ? {} : { testTimeAugmentation: [...m.testTimeAugmentation] }),
          ...(m.macs === undefined ? {} : { macs: m.macs }),
        },
      ]),
    ),
  };
}

/** Writes `<out>/models/` and `<out>/data/` for the task in `zooDir` and its splits. */
export async function exportTask(zooDir: string, manifest: ZooManifest, splits: EvaluationSplits, outDir: string): Promise<{ models: string; data: string }> {
  const models = path.join(outDir, 'models');
  const data = path.join(outDir, 'data');
  await mkdir(models, { recursive: true });
  await mkdir(data, { recursive: true });
  for (const m of manifest.models) await copyFile(path.join(zooDir, m.file), path.join(models, `${m.id}.onnx`));
  await writeFile(path.join(models, 'labels.txt'), `${manifest.classes.join('\n')}\n`);
  await writeFile(path.join(models, 'zoo.json'), `${JSON.stringify(zooSpecOf(manifest), null, 2)}\n`);
  const inputs = taskInputs(manifest);
  for (const part of ['premodel', 'test'] as const) {
    const split = splits[part];
    const lines: string[] = [];
    const folders = new Set<string>();
    const bar = progress(`export (${part})`, split.labels.length);
    for (let i = 0; i < split.labels.length; i++) {
      const label = manifest.classes[split.labels[i]!]!;
      const wire = await inputs.asWire(await split.input(i));
      if (wire.form === 'upload') {
        const folder = path.join(data, part, classFolder(label));
        if (!folders.has(folder)) await mkdir(folder, { recursive: true });
        folders.add(folder);
        await writeFile(path.join(folder, `${i}${EXTENSIONS[wire.mediaType] ?? '.bin'}`), wire.bytes);
      } else if (wire.form === 'json') {
        const group = split.groups?.[i];
        lines.push(JSON.stringify({ [wire.field]: wire.value, label, ...(group === undefined ? {} : { group: String(group) }) }));
      } else {
        throw new Error(`the ${inputs.kind} kind has no file form to export`);
      }
      bar.tick();
    }
    bar.stop();
    if (lines.length > 0) await writeFile(path.join(data, `${part}.jsonl`), `${lines.join('\n')}\n`);
  }
  return { models, data };
}
