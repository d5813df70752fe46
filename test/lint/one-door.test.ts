// The "one door" lint rule (scripts/lint/one-door.js) really fails on a bypass:
// each case lints a small source text as if it lived at a path of the tree.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: repo });

async function ruleErrors(rule: string, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repo, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
}

const doorErrors = (file: string, code: string): Promise<string[]> => ruleErrors('metaq/one-door', file, code);

describe('metaq/one-door', () => {
  it("fails on an import that reaches past another folder's index.ts", async () => {
    const errors = await doorErrors('src/client/example.ts', "import { CommitLog } from '../store/commit-log.js';\nexport { CommitLog };\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("import '../store/index.js' instead");
  });

  it('fails on a re-export and a dynamic import past the door, and from test/', async () => {
    expect(await doorErrors('src/harness/example.ts', "export { Broker } from '../broker/broker.js';\n")).toHaveLength(1);
    expect(await doorErrors('src/harness/example.ts', "export const m = await import('../broker/broker.js');\n")).toHaveLength(1);
    expect(await doorErrors('test/example.test.ts', "export * from '../src/store/record.js';\n")).toHaveLength(1);
  });

  it("fails on a sub-folder's internals reached from its parent", async () => {
    expect(await doorErrors('src/harness/example.ts', "export * from './report/hgrm.js';\n")).toHaveLength(1);
  });

  it('passes doors, files of the same folder and files of an enclosing folder', async () => {
    expect(await doorErrors('src/broker/example.ts', "export * from '../store/index.js';\n")).toEqual([]);
    expect(await doorErrors('src/client/example.ts', "export * from './producer.js';\n")).toEqual([]);
    expect(await doorErrors('src/harness/report/example.ts', "export * from '../scenario.js';\n")).toEqual([]);
    expect(await doorErrors('src/harness/example.ts', "export * from './report/index.js';\n")).toEqual([]);
  });
});

describe('layering', () => {
  it('fails when protocol/ or client/ import the store, even through its door', async () => {
    for (const file of ['src/protocol/example.ts', 'src/client/example.ts']) {
      expect(await ruleErrors('no-restricted-imports', file, "export * from '../store/index.js';\n")).toHaveLength(1);
    }
    expect(await ruleErrors('no-restricted-imports', 'src/broker/example.ts', "export * from '../store/index.js';\n")).toEqual([]);
  });
});
