// Simulated power cut of a live store: copies its directory and cuts the copy
// as a power failure at this instant would leave it (cutToDurableImage, the
// same cut a harness applies in place to a killed broker's store from its sync
// record), with the image from MessageStore.durableImage(). Must run
// synchronously (one macrotask) with the image.
import fs from 'node:fs';
import path from 'node:path';
import { cutToDurableImage, type DurableImage, type PowerCutStats } from '../../src/store/index.js';
import { listFiles } from './temp-dir.js';

export type PowerLossCopyStats = PowerCutStats;

export function copyAsAfterPowerLoss(src: string, dst: string, image: DurableImage): PowerLossCopyStats {
  for (const rel of listFiles(src)) {
    if (rel === 'lock') continue;
    const to = path.join(dst, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(src, rel), to);
  }
  return cutToDurableImage(dst, image);
}
