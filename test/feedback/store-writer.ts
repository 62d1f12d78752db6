/**
 * The child process of the kill -9 test (store.test.ts): appends numbered records to the feedback
 * log in argv[2] as replica argv[3], from a few concurrent loops so that appends share syncs, and
 * prints each number once its append has resolved. What the parent has read was acknowledged.
 * Small segments, so that the kill may land while a segment rolls too.
 */
import { FeedbackLog } from '../../src/feedback/store.js';

const [dir, replica] = process.argv.slice(2);
if (dir === undefined || replica === undefined) throw new Error('usage: store-writer.ts <dir> <replica>');
const log = await FeedbackLog.open(dir, { replica, segmentBytes: 2048 });

let next = 0;
async function appendForever(): Promise<void> {
  for (;;) {
    const n = next++;
    await log.append([{ n, label: 'shirt' }]);
    process.stdout.write(`${n}\n`);
  }
}
await Promise.all([appendForever(), appendForever(), appendForever(), appendForever()]);
