// Runs a run's steps in order, each under its name, until one fails: the
// steps after it are skipped (teardown is not a step: it always runs), and
// the failure comes back with the step's name, for the verdict to say where
// the run stopped.
import type { RunContext } from './run-context.js';

export interface RunStep {
  /** Says what the step does, in the words of a failure ("the run stopped at step ..."). */
  name: string;
  run(run: RunContext): Promise<void>;
}

export interface StepFailure {
  step: string;
  error: unknown;
}

export async function runSteps(steps: readonly RunStep[], run: RunContext): Promise<StepFailure | undefined> {
  for (const step of steps) {
    try {
      await step.run(run);
    } catch (error) {
      run.progress.note(`metaq scenario: step "${step.name}" failed: ${describeError(error)}`);
      return { step: step.name, error };
    }
  }
  return undefined;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
