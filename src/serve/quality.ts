/**
 * GET /v1/tasks/{task}/quality: what label feedback shows of a task's accuracy promise (per target
 * band, per operating point with what calibration promised of it, per input group), the online
 * correction's state, and the drift of its inputs from the premodel split.
 */
import type { QualitySnapshot } from '../quality/realized.js';
import { driftOf } from './service.js';
import type { ServedTask } from './task.js';

export interface TaskQualityReport extends Omit<QualitySnapshot, 'points'> {
  task: string;
  /** The premodel the operating points are indices into (its dataHash's first 8 hex digits). */
  premodel: string;
  points: (QualitySnapshot['points'][number] & { ladder: string; promised: number })[];
  /** Per input group: the PSI of the features (the largest, and which) and of the first model's confidence, over the sliding window. */
  drift: ReturnType<typeof driftOf>;
  /** Labels this replica took and repeats it saw since start-up, and its log's size; null: feedback off. */
  feedback: { accepted: number; duplicates: number; storedBytes: number } | null;
}

export function taskQuality(task: ServedTask, feedback: TaskQualityReport['feedback'] | undefined): TaskQualityReport {
  const snapshot = task.quality.snapshot();
  const calibration = task.premodel.file.calibration;
  return {
    task: task.name,
    premodel: task.premodelId,
    ...snapshot,
    points: snapshot.points.map((p) => {
      const point = calibration[p.point];
      return { ...p, ladder: point === undefined ? 'unknown' : point.models.join(' > '), promised: point?.accuracyLowerBound ?? 0 };
    }),
    drift: driftOf(task),
    feedback: feedback ?? null,
  };
}
