// Measures how much a background zero-fill of the kind the CommitLog used to run
// (issue 13) slows the acknowledging fdatasyncs: an appender writes 64 KiB and
// fdatasyncs it back to back into allocated blocks, alone (`none`) or beside a
// fill of 4 MiB writes paced at 256 MB/s with an fdatasync every 64 MiB that
// stands aside only while an appender fdatasync is in flight (`oldfill`).
// Usage: node scripts/fill-interference.mjs <scratch dir> none|oldfill [seconds]
import fs from 'node:fs';
const [dir, mode, secS] = process.argv.slice(2);
const SIZE = 512 << 20, CHUNK = 64 << 10, DUR = Number(secS ?? 10) * 1000;
const seg = `${dir}/seg`, fill = `${dir}/fill`;
const fd = fs.openSync(seg, 'w+');
const z = Buffer.alloc(4 << 20);
for (let p = 0; p < SIZE; p += z.length) fs.writeSync(fd, z, 0, z.length, p);
fs.fdatasyncSync(fd);
let syncing = false, stop = false;
const lat = [];
const buf = Buffer.alloc(CHUNK, 7);
const t0 = performance.now();
let pos = 0;
const appender = async () => {
  while (performance.now() - t0 < DUR) {
    fs.writeSync(fd, buf, 0, CHUNK, pos % SIZE); pos += CHUNK;
    syncing = true;
    const s = performance.now();
    await new Promise((r, j) => fs.fdatasync(fd, (e) => (e ? j(e) : r())));
    syncing = false;
    lat.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 1)); // ~ one group commit per ms or so
  }
  stop = true;
};
const filler = async () => {
  if (mode !== 'oldfill') return;
  const h = await fs.promises.open(fill, 'w');
  let started = performance.now(), from = 0;
  for (let p = 0; !stop; p += z.length) {
    if (syncing) { while (!stop && syncing) await new Promise((r) => setTimeout(r, 5)); started = performance.now(); from = p; }
    await h.write(z, 0, z.length, p % (1 << 30));
    if ((p + z.length) % (64 << 20) === 0) await h.datasync();
    const ahead = ((p + z.length - from) / 256e6) * 1000 - (performance.now() - started);
    if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
  }
  await h.close();
};
await Promise.all([appender(), filler()]);
lat.sort((a, b) => a - b);
const q = (x) => lat[Math.min(lat.length - 1, Math.floor(x * lat.length))].toFixed(1);
console.log(`${mode.padEnd(8)} appender fdatasyncs ${lat.length} p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)} ms`);
fs.closeSync(fd); fs.rmSync(seg); fs.rmSync(fill, { force: true });
