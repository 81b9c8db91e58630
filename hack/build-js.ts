// Compiles every workspace package to JavaScript in packages/<name>/dist (upstream: `make` building the component binaries).
//   npm run build:js          (node --import tsx hack/build-js.ts)
// The type check stays `npm run build`; this only strips types, file by file (the tree is isolatedModules and
// verbatimModuleSyntax), so it takes a second or two. Tests (*.test.ts) and testdata/ are left out; other files
// beside the sources (api.proto, generated/definitions.json) are copied, since the code loads them relative to itself.
// Dev and tests keep resolving the TypeScript source through the `source` export condition; hack/compose stages
// the dist/ trees with package.json exports pointing at them for the images.
//
// Bundles, one JavaScript file per component (what hack/lab runs; upstream: one binary per component):
//   node --import tsx hack/build-js.ts --bundle --outdir DIR [NAME=ENTRY ...]
// writes DIR/NAME.mjs for each entry (default: the components in COMPONENTS), built with esbuild: the workspace
// packages (@kubelab/*, through their `source` condition) are bundled, the npm dependencies stay imports that node
// resolves at run time through DIR/node_modules, a link to the repository's (their own files, such as etcd3's
// proto or pino's worker, stay where they expect them). Files the code reads relative to itself
// (`new URL('./x', import.meta.url)`: the API schema, the CRI proto) are copied to the same place relative to
// DIR. Every file is replaced by a rename, so processes still running an earlier build read whole files.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testdata') yield* walk(path);
    } else if (entry.isFile()) yield path;
  }
}

async function buildDist(): Promise<void> {
  // Loaded here: the bundles do not need the TypeScript compiler (a second of start-up).
  const { default: ts } = await import('typescript');
  const compilerOptions: import('typescript').CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    sourceMap: false,
  };
  const started = Date.now();
  let emitted = 0;
  let copied = 0;
  for (const pkg of readdirSync(join(root, 'packages')).sort()) {
    const src = join(root, 'packages', pkg, 'src');
    const dist = join(root, 'packages', pkg, 'dist');
    try {
      readdirSync(src);
    } catch {
      continue;
    }
    rmSync(dist, { recursive: true, force: true });
    for (const file of walk(src)) {
      const rel = relative(src, file);
      if (file.endsWith('.test.ts')) continue;
      if (file.endsWith('.ts')) {
        const out = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file, reportDiagnostics: true });
        const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
        if (errors.length > 0) {
          const text = ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' });
          process.stderr.write(text);
          process.exit(1);
        }
        const target = join(dist, rel.replace(/\.ts$/, '.js'));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, out.outputText);
        emitted++;
      } else {
        const target = join(dist, rel);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(file, target);
        copied++;
      }
    }
  }
  console.log(`build:js: ${emitted} modules compiled, ${copied} files copied into packages/*/dist in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** The components hack/lab runs, by bundle name (kube-* names as upstream's binaries are not used: hack/lab's own). */
export const COMPONENTS: Record<string, string> = {
  apiserver: 'packages/apiserver/src/main.ts',
  scheduler: 'packages/scheduler/src/main.ts',
  'controller-manager': 'packages/controller-manager/src/main.ts',
  kubelet: 'packages/kubelet/src/main.ts',
  'kube-proxy': 'packages/kube-proxy/src/main.ts',
};

// `new URL('<relative path>', import.meta.url)`: a file the module reads beside itself at run time.
const RELATIVE_FILE = /new URL\(\s*(['"`])(\.{1,2}\/[^'"`]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Writes path through a temporary file and a rename (a reader never sees half a file). */
function replaceFile(path: string, contents: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/** Every workspace import (@kubelab/*) and relative import is bundled; npm dependencies stay imports. */
const externalDependencies: esbuild.Plugin = {
  name: 'external-dependencies',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@kubelab/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

async function buildBundles(outdir: string, entries: Record<string, string>): Promise<void> {
  const started = Date.now();
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.entries(entries).map(([out, entry]) => ({ out, in: entry })),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    conditions: ['source'],
    // Class and function names stay what the source says (error messages, logs), though the bundle renames clashes.
    keepNames: true,
    // For stack traces in terms of the sources: node --enable-source-maps (NODE_OPTIONS) reads DIR/NAME.mjs.map.
    sourcemap: 'linked',
    sourcesContent: false,
    plugins: [externalDependencies],
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(outdir, { recursive: true });
  for (const file of result.outputFiles) replaceFile(file.path, file.contents);
  // The files the bundled modules read relative to themselves, at the same relative path from the bundles.
  const copies = new Map<string, string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!/\.[cm]?[jt]s$/.test(input) || input.includes('node_modules/')) continue;
    const source = resolve(root, input);
    for (const m of readFileSync(source, 'utf8').matchAll(RELATIVE_FILE)) {
      const from = resolve(dirname(source), m[2]);
      const to = resolve(outdir, m[2]);
      if (!to.startsWith(`${resolve(outdir)}/`)) throw new Error(`${input}: ${m[2]} would land outside ${outdir}`);
      const earlier = copies.get(to);
      if (earlier !== undefined && earlier !== from) throw new Error(`${to} is wanted both from ${earlier} and ${from}`);
      copies.set(to, from);
    }
  }
  for (const [to, from] of copies) replaceFile(to, readFileSync(from));
  // npm dependencies: node looks for them in node_modules beside (and above) the bundle.
  const link = join(outdir, 'node_modules');
  if (!existsSync(link)) symlinkSync(join(root, 'node_modules'), link);
  const names = Object.keys(entries).join(', ');
  console.log(`build:js: bundled ${names} (+${copies.size} files they read) into ${outdir} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

const args = process.argv.slice(2);
if (args.includes('--bundle')) {
  let outdir = join(root, 'dist', 'bundles');
  const entries: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--bundle') continue;
    if (arg === '--outdir') outdir = resolve(args[++i] ?? '');
    else if (arg.startsWith('--outdir=')) outdir = resolve(arg.slice('--outdir='.length));
    else if (/^[\w.-]+=./.test(arg)) {
      const eq = arg.indexOf('=');
      entries[arg.slice(0, eq)] = arg.slice(eq + 1);
    } else {
      process.stderr.write(`build-js: unknown argument ${arg}\nusage: build-js.ts [--bundle [--outdir DIR] [NAME=ENTRY ...]]\n`);
      process.exit(2);
    }
  }
  try {
    await buildBundles(outdir, Object.keys(entries).length > 0 ? entries : COMPONENTS);
  } catch (err) {
    // esbuild has printed its errors already.
    if (!(err instanceof Error && 'errors' in err)) process.stderr.write(`build-js: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
} else {
  await buildDist();
}
