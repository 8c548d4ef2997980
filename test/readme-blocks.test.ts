// Every ```ts block of README.md, run as written on every backend — js, wasm, wasm with workers and
// webgpu (Dawn over SwiftShader here) — so a README example cannot rot. `ivon-edge` imports
// resolve to src/ (`ivon-edge/x` to src/x/index.ts or src/x.ts) with createRuntime pinned to the
// backend under test (the block's other options kept); names a block uses without defining come
// from test/readme-fixtures.ts. Each block's top-level values must be finite and agree across
// backends. A block that cannot run in one process (a coordinator and its devices, say) is marked
// `<!-- readme-blocks: parse-only: why -->` on the line above its fence: it is still compiled and
// every name it imports must exist.
import { existsSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import * as library from '../src/index.js';
import type { Runtime, RuntimeOptions } from '../src/index.js';
import { FIXTURES, type FixtureEnv } from './readme-fixtures.js';

interface Block {
  /** 1-based index among the README's ts blocks, and the line its code starts on. */
  index: number;
  line: number;
  source: string;
  /** Why the block is compiled and its imports checked but not run; undefined: it runs. */
  parseOnly?: string;
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

/** A block that has not finished after this long fails, saying what may be wrong. */
const BLOCK_TIMEOUT_MS = 90_000;

function readmeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```ts[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let match = fence.exec(markdown); match; match = fence.exec(markdown)) {
    const before = markdown.slice(0, match.index);
    const line = before.split('\n').length + 1;
    const marker = /<!--\s*readme-blocks:\s*parse-only:?\s*([\s\S]*?)-->\s*$/.exec(before);
    blocks.push({ index: blocks.length + 1, line, source: match[1], ...(marker ? { parseOnly: marker[1].trim() || 'no reason given' } : {}) });
  }
  return blocks;
}

/** The module a block imports: the package root, or a subpath by its folder or file under src/. */
async function loadModule(specifier: string, where: string): Promise<Record<string, unknown>> {
  if (specifier === 'ivon-edge') return library as unknown as Record<string, unknown>;
  const sub = /^ivon-edge\/([\w-]+)$/.exec(specifier)?.[1];
  const candidates = sub ? [`../src/${sub}/index.ts`, `../src/${sub}.ts`].map((path) => new URL(path, import.meta.url)) : [];
  const found = candidates.find((url) => existsSync(url));
  if (!found) {
    throw new Error(`${where} imports '${specifier}': test/readme-blocks.test.ts maps 'ivon-edge' to src/index.ts and 'ivon-edge/x' to src/x/index.ts or src/x.ts, and found neither`);
  }
  return (await import(found.href)) as Record<string, unknown>;
}

interface Imports {
  declared: string[];
  imported: string[];
  /** Each import: module specifier and the names it takes (export name, not the local alias). */
  imports: { specifier: string; names: string[] }[];
}

/** Names a block declares at its top level (variables, destructured or not, functions, classes, imports). */
function topLevelNames(file: ts.SourceFile): Imports {
  const declared: string[] = [];
  const imported: string[] = [];
  const imports: Imports['imports'] = [];
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) declared.push(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) statement.declarationList.declarations.forEach((d) => bind(d.name));
    else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) declared.push(statement.name.text);
    else if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const names: string[] = [];
      if (clause?.name) imported.push(clause.name.text);
      const named = clause?.namedBindings;
      if (named && ts.isNamedImports(named)) {
        for (const e of named.elements) {
          imported.push(e.name.text);
          if (!e.isTypeOnly && !clause?.isTypeOnly) names.push((e.propertyName ?? e.name).text);
        }
      }
      if (named && ts.isNamespaceImport(named)) imported.push(named.name.text);
      imports.push({ specifier: (statement.moduleSpecifier as ts.StringLiteral).text, names });
    }
  }
  return { declared, imported, imports };
}

/** The block's modules, every imported name checked to exist (types aside). */
async function importsOf(block: Block, parsed: Imports): Promise<Map<string, Record<string, unknown>>> {
  const where = `README.md block ${block.index} (line ${block.line})`;
  const modules = new Map<string, Record<string, unknown>>();
  for (const { specifier, names } of parsed.imports) {
    const exports = await loadModule(specifier, where);
    const missing = names.filter((name) => !(name in exports));
    if (missing.length > 0) throw new Error(`${where} imports ${missing.map((n) => `\`${n}\``).join(', ')} from '${specifier}', which does not export ${missing.length > 1 ? 'them' : 'it'}`);
    modules.set(specifier, exports);
  }
  return modules;
}

interface Outcome {
  values: Record<string, unknown>;
  runtimes: Runtime[];
  logs: string[];
}

/** The TypeScript of a block as a script: imports become require() calls, types are stripped. */
function transpile(block: Block): string {
  const out = ts.transpileModule(block.source, {
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    throw new Error(`README.md block ${block.index} (line ${block.line}) does not compile: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}`);
  }
  return out.outputText;
}

/** Runs one block on one variant: TypeScript stripped, imports from src/, fixtures as parameters. */
async function runBlock(block: Block, variant: Variant, timeoutMs = BLOCK_TIMEOUT_MS): Promise<Outcome> {
  const where = `README.md block ${block.index} (line ${block.line})`;
  const parsed = topLevelNames(ts.createSourceFile('block.ts', block.source, ts.ScriptTarget.Latest, true));
  const { declared, imported } = parsed;
  const runtimes: Runtime[] = [];
  // The library as this run sees it: createRuntime pinned to the variant, every runtime disposed after.
  const pin = (exports: Record<string, unknown>): Record<string, unknown> => {
    if (typeof exports.createRuntime !== 'function') return exports;
    const createRuntime = exports.createRuntime as (options?: RuntimeOptions) => Promise<Runtime>;
    return {
      ...exports,
      createRuntime: async (options: RuntimeOptions = {}) => {
        const rt = await createRuntime({ ...options, ...variant.runtime });
        runtimes.push(rt);
        return rt;
      },
    };
  };
  const modules = new Map([...(await importsOf(block, parsed))].map(([specifier, exports]) => [specifier, pin(exports)]));
  const made = new Map<string, Promise<unknown>>();
  const env: FixtureEnv = {
    variant: variant.name,
    library: pin(library as unknown as Record<string, unknown>) as unknown as typeof library,
    get: <T,>(name: string) => {
      const fixture = FIXTURES[name];
      if (!fixture) throw new Error(`test/readme-fixtures.ts: a fixture asked for '${name}', which is not in FIXTURES`);
      if (!made.has(name)) made.set(name, Promise.resolve(fixture(env)));
      return made.get(name) as Promise<T>;
    },
  };
  const own = new Set([...declared, ...imported]);
  const fixtureNames = Object.keys(FIXTURES).filter((name) => !own.has(name) && new RegExp(`(?<![\\w$.])${name}\\b`).test(block.source));
  const body = `${transpile(block)}\nreturn { ${declared.join(', ')} };`;
  const logs: string[] = [];
  const capture = { log: (...a: unknown[]) => logs.push(a.join(' ')), info: (...a: unknown[]) => logs.push(a.join(' ')), warn: (...a: unknown[]) => logs.push(a.join(' ')) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<Record<string, unknown>>;
  const run = new AsyncFunction('require', 'exports', 'console', ...fixtureNames, body);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // One at a time: fixtures may share a network, whose workspace one training run uses at a time.
    const fixtureValues: unknown[] = [];
    for (const name of fixtureNames) fixtureValues.push(await env.get(name));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${where} did not finish within ${timeoutMs / 1000} s on ${variant.name}; a block that waits on another process cannot run here: mark it <!-- readme-blocks: parse-only: why --> above its fence`)),
        timeoutMs,
      );
    });
    const values = await Promise.race([run((specifier: string) => modules.get(specifier), {}, capture, ...fixtureValues), timeout]);
    return { values, runtimes, logs };
  } catch (error) {
    await Promise.all(runtimes.map((rt) => rt.dispose()));
    const missing = error instanceof ReferenceError ? /^(\S+) is not defined/.exec(error.message) : null;
    if (missing) {
      throw new Error(
        `${where} uses \`${missing[1]}\`, which neither the block nor test/readme-fixtures.ts defines: add a tiny fixture named '${missing[1]}' to FIXTURES there`,
      );
    }
    if ((error as Error).message?.startsWith(where)) throw error;
    throw new Error(`${where} failed on ${variant.name}: ${(error as Error).stack ?? error}`);
  } finally {
    clearTimeout(timer);
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
const runnable = blocks.filter((b) => b.parseOnly === undefined);
const parseOnly = blocks.filter((b) => b.parseOnly !== undefined);

describe('README.md code blocks', () => {
  it('has ts blocks to run (the quick starts at least)', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(2);
    expect(runnable[0].source).toMatch(/ctx\.theta\('w'\)/);
    const marked = readmeBlocks('x\n<!-- readme-blocks: parse-only: a coordinator and its devices -->\n```ts\nconst a = 1;\n```\n\n```ts\nconst b = 2;\n```\n');
    expect(marked.map((b) => [b.line, b.parseOnly])).toEqual([[4, 'a coordinator and its devices'], [8, undefined]]);
  });

  it('names the missing fixture when a block uses a name nothing defines, and the module when one cannot be imported', async () => {
    const undefinedName = { index: 99, line: 7, source: "import { createRuntime } from 'ivon-edge';\nconst rt = await createRuntime();\nfor (const c of federatedClients) c;\n" };
    await expect(runBlock(undefinedName, VARIANTS[0])).rejects.toThrow(
      "README.md block 99 (line 7) uses `federatedClients`, which neither the block nor test/readme-fixtures.ts defines: add a tiny fixture named 'federatedClients' to FIXTURES there",
    );
    const unknownModule = { index: 3, line: 1, source: "import { x } from 'ivon-edge/elsewhere';\n" };
    await expect(runBlock(unknownModule, VARIANTS[0])).rejects.toThrow(/block 3 \(line 1\) imports 'ivon-edge\/elsewhere'.*src\/x\/index\.ts or src\/x\.ts, and found neither/);
    const renamed = { index: 4, line: 2, source: "import { IVON, createRuntme, type Runtime } from 'ivon-edge';\n" };
    await expect(runBlock(renamed, VARIANTS[0])).rejects.toThrow("README.md block 4 (line 2) imports `createRuntme` from 'ivon-edge', which does not export it");
    const broken = { index: 5, line: 9, source: 'const a = ;\n' };
    await expect(runBlock(broken, VARIANTS[0])).rejects.toThrow(/block 5 \(line 9\) does not compile: Expression expected/);
    const waiting = { index: 6, line: 1, source: 'await new Promise(() => {});\n' };
    await expect(runBlock(waiting, VARIANTS[0], 200)).rejects.toThrow(/block 6 \(line 1\) did not finish within 0.2 s on js; .*parse-only/);
  });

  it.each([VARIANTS[0], VARIANTS[3]])('gives sections that start mid-program a runtime, a trained net and opt, and IVON on $name', async (variant) => {
    const midProgram = {
      index: 7,
      line: 1,
      source: [
        "import { predictBma, accuracy } from 'ivon-edge';",
        'const p = await predictBma(net, opt, x, rows, { samples: 4 });',
        'const trained = accuracy(p.probs, labels, 10);',
        'const other = new IVON(rt, { params: { w }, lr: 0.1, ess: 100 });',
        'const sameBackend = rt.backend;',
        '',
      ].join('\n'),
    };
    const outcome = await runBlock(midProgram, variant);
    try {
      expect(outcome.values.trained).toBeGreaterThan(0.3); // ten epochs on 128 digits: well above chance (0.1)
      expect(outcome.values.sameBackend).toBe(variant.backend);
    } finally {
      await Promise.all(outcome.runtimes.map((rt) => rt.dispose()));
    }
  });

  it('declares its own names over fixtures of the same name', async () => {
    const shadowing = { index: 1, line: 1, source: 'const nTrain = 3;\nconst doubled = nTrain * 2;\n' };
    expect((await runBlock(shadowing, VARIANTS[0])).values).toEqual({ nTrain: 3, doubled: 6 });
  });

  it.each(parseOnly.length > 0 ? parseOnly : [undefined])('parse-only block %#: compiles, and every name it imports exists', async (block) => {
    if (!block) return expect(parseOnly).toEqual([]); // none marked in this README
    transpile(block);
    await importsOf(block, topLevelNames(ts.createSourceFile('block.ts', block.source, ts.ScriptTarget.Latest, true)));
  });

  describe.each(runnable)('block $index (README.md line $line)', (block) => {
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
