// Every ```ts block of README.md, run as written on every backend — js, wasm, wasm with workers and
// webgpu (Dawn over SwiftShader here) — so a README example cannot rot. `ivon-edge` imports
// resolve to src/ with createRuntime pinned to the backend under test (the block's other options
// kept); names a block uses without defining come from test/readme-fixtures.ts. Each block's
// top-level values must be finite and agree across backends.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import * as library from '../src/index.js';
import type { Runtime, RuntimeOptions } from '../src/index.js';
import { FIXTURES } from './readme-fixtures.js';

interface Block {
  /** 1-based index among the README's ts blocks, and the line its code starts on. */
  index: number;
  line: number;
  source: string;
}

interface Variant {
  name: string;
  runtime: RuntimeOptions;
  backend: Runtime['backend'];
  workers: number;
}

const VARIANTS: Variant[] = [
  { name: 'js', runtime: { backend: 'js' }, backend: 'js', workers: 0 },
  { name: 'wasm', runtime: { backend: 'wasm', workers: 0 }, backend: 'wasm', workers: 0 },
  // Thresholds at their minimum, so even the README's small models are sharded over the pool.
  { name: 'wasm+workers', runtime: { backend: 'wasm', workers: 2, minElementsPerWorker: 16, minGemmFlopsPerWorker: 1 }, backend: 'wasm', workers: 2 },
  { name: 'webgpu', runtime: { backend: 'webgpu' }, backend: 'webgpu', workers: 0 },
];

/** Subpath imports a README block may use, besides the package root. */
const MODULES: Record<string, () => Promise<Record<string, unknown>>> = {
  'ivon-edge': async () => library as unknown as Record<string, unknown>,
};

function readmeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```ts[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let match = fence.exec(markdown); match; match = fence.exec(markdown)) {
    const line = markdown.slice(0, match.index).split('\n').length + 1;
    blocks.push({ index: blocks.length + 1, line, source: match[1] });
  }
  return blocks;
}

/** Names a block declares at its top level (variables, destructured or not, functions, classes, imports). */
function topLevelNames(file: ts.SourceFile): { declared: string[]; imported: string[]; specifiers: string[] } {
  const declared: string[] = [];
  const imported: string[] = [];
  const specifiers: string[] = [];
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) declared.push(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) statement.declarationList.declarations.forEach((d) => bind(d.name));
    else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) declared.push(statement.name.text);
    else if (ts.isImportDeclaration(statement)) {
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
      const clause = statement.importClause;
      if (clause?.name) imported.push(clause.name.text);
      const named = clause?.namedBindings;
      if (named && ts.isNamedImports(named)) named.elements.forEach((e) => imported.push(e.name.text));
      if (named && ts.isNamespaceImport(named)) imported.push(named.name.text);
    }
  }
  return { declared, imported, specifiers };
}

interface Outcome {
  values: Record<string, unknown>;
  runtimes: Runtime[];
  logs: string[];
}

/** Runs one block on one variant: TypeScript stripped, imports from MODULES, fixtures as parameters. */
async function runBlock(block: Block, variant: Variant): Promise<Outcome> {
  const where = `README.md block ${block.index} (line ${block.line})`;
  const file = ts.createSourceFile('block.ts', block.source, ts.ScriptTarget.Latest, true);
  const { declared, imported, specifiers } = topLevelNames(file);
  const runtimes: Runtime[] = [];
  const modules = new Map<string, Record<string, unknown>>();
  for (const specifier of specifiers) {
    const load = MODULES[specifier];
    if (!load) throw new Error(`${where} imports '${specifier}', which test/readme-blocks.test.ts cannot provide; add it to MODULES there`);
    const exports = { ...(await load()) };
    if (typeof exports.createRuntime === 'function') {
      const createRuntime = exports.createRuntime as (options?: RuntimeOptions) => Promise<Runtime>;
      exports.createRuntime = async (options: RuntimeOptions = {}) => {
        const rt = await createRuntime({ ...options, ...variant.runtime });
        runtimes.push(rt);
        return rt;
      };
    }
    modules.set(specifier, exports);
  }
  const own = new Set([...declared, ...imported]);
  const fixtureNames = Object.keys(FIXTURES).filter((name) => !own.has(name) && new RegExp(`\\b${name}\\b`).test(block.source));
  const fixtureValues = await Promise.all(fixtureNames.map((name) => FIXTURES[name]({ variant: variant.name })));
  const { outputText } = ts.transpileModule(block.source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: false },
  });
  const body = `${outputText}\nreturn { ${declared.join(', ')} };`;
  const logs: string[] = [];
  const capture = { log: (...a: unknown[]) => logs.push(a.join(' ')), info: (...a: unknown[]) => logs.push(a.join(' ')), warn: (...a: unknown[]) => logs.push(a.join(' ')) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<Record<string, unknown>>;
  const run = new AsyncFunction('require', 'exports', 'console', ...fixtureNames, body);
  try {
    const values = await run((specifier: string) => modules.get(specifier), {}, capture, ...fixtureValues);
    return { values, runtimes, logs };
  } catch (error) {
    await Promise.all(runtimes.map((rt) => rt.dispose()));
    const missing = error instanceof ReferenceError ? /^(\S+) is not defined/.exec(error.message) : null;
    if (missing) {
      throw new Error(
        `${where} uses \`${missing[1]}\`, which neither the block nor test/readme-fixtures.ts defines: add a tiny fixture named '${missing[1]}' to FIXTURES there`,
      );
    }
    throw new Error(`${where} failed on ${variant.name}: ${(error as Error).stack ?? error}`);
  }
}

/** Every number reachable from a block's values through plain objects, arrays and typed arrays, by path. */
function numbersOf(value: unknown, path: string, out: Map<string, number>, depth = 0): void {
  if (depth > 4) return;
  if (typeof value === 'number') out.set(path, value);
  else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    Array.from(value as unknown as ArrayLike<number>).forEach((x, i) => out.set(`${path}[${i}]`, Number(x)));
  }
  else if (Array.isArray(value)) value.forEach((v, i) => numbersOf(v, `${path}[${i}]`, out, depth + 1));
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, v] of Object.entries(value)) numbersOf(v, `${path}.${key}`, out, depth + 1);
  }
}

const blocks = readmeBlocks(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));

describe('README.md code blocks', () => {
  it('has ts blocks to run (the quick starts at least)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks[0].source).toMatch(/ctx\.theta\('w'\)/);
  });

  it('names the missing fixture when a block uses a name nothing defines, and the module when one cannot be imported', async () => {
    const undefinedName = { index: 99, line: 7, source: "import { createRuntime } from 'ivon-edge';\nconst rt = await createRuntime();\nfor (const c of federatedClients) c;\n" };
    await expect(runBlock(undefinedName, VARIANTS[0])).rejects.toThrow(
      "README.md block 99 (line 7) uses `federatedClients`, which neither the block nor test/readme-fixtures.ts defines: add a tiny fixture named 'federatedClients' to FIXTURES there",
    );
    const unknownModule = { index: 3, line: 1, source: "import { x } from 'ivon-edge/elsewhere';\n" };
    await expect(runBlock(unknownModule, VARIANTS[0])).rejects.toThrow(/block 3 \(line 1\) imports 'ivon-edge\/elsewhere'.*add it to MODULES/);
  });

  it('declares its own names over fixtures of the same name', async () => {
    const shadowing = { index: 1, line: 1, source: 'const nTrain = 3;\nconst doubled = nTrain * 2;\n' };
    expect((await runBlock(shadowing, VARIANTS[0])).values).toEqual({ nTrain: 3, doubled: 6 });
  });

  describe.each(blocks)('block $index (README.md line $line)', (block) => {
    const numbers = new Map<string, Map<string, number>>();
    afterAll(() => numbers.clear());

    it.each(VARIANTS)('runs as written on $name', async (variant) => {
      const outcome = await runBlock(block, variant);
      try {
        for (const rt of outcome.runtimes) {
          expect(rt.backend).toBe(variant.backend);
          expect(rt.workers).toBe(variant.workers);
        }
        const found = new Map<string, number>();
        numbersOf(outcome.values, 'block', found);
        for (const [path, x] of found) expect(Number.isFinite(x), `${path} = ${x}`).toBe(true);
        numbers.set(variant.name, found);
      } finally {
        await Promise.all(outcome.runtimes.map((rt) => rt.dispose()));
      }
    });

    it('gives every backend the same values: the pool the bits of one thread, wasm and webgpu the js values within float32 rounding', () => {
      const reference = numbers.get('js');
      expect(reference, 'the js run must have passed').toBeDefined();
      for (const variant of VARIANTS.slice(1)) {
        const got = numbers.get(variant.name);
        expect(got, `the ${variant.name} run must have passed`).toBeDefined();
        expect([...got!.keys()]).toEqual([...reference!.keys()]);
        let worst = 0;
        let at = '';
        for (const [path, want] of reference!) {
          const diff = Math.abs(got!.get(path)! - want) / Math.max(1e-3, Math.abs(want));
          if (diff > worst) [worst, at] = [diff, path];
        }
        expect(worst, `${variant.name} vs js, worst at ${at}`).toBeLessThanOrEqual(1e-5);
      }
      expect([...numbers.get('wasm+workers')!.values()]).toEqual([...numbers.get('wasm')!.values()]);
    });
  });
});
