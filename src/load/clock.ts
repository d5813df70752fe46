// The clock every thread of a run shares: process.hrtime is monotonic and
// process-wide, so a timestamp taken in a producer worker can be subtracted
// from one taken in a consumer worker. Microseconds, as a double (exact).

export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
