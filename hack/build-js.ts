// Compiles every workspace package to JavaScript in packages/<name>/dist (upstream: `make` building the component binaries).
//   npm run build:js          (node --import tsx hack/build-js.ts)
// The type check stays `npm run build`; this only strips types, file by file (the tree is isolatedModules and
// verbatimModuleSyntax), so it takes a second or two. Tests (*.test.ts) and testdata/ are left out; other files
// beside the sources (api.proto, generated/definitions.json) are copied, since the code loads them relative to itself.
// Dev and tests keep resolving the TypeScript source through the `source` export condition; hack/compose stages
// the dist/ trees with package.json exports pointing at them for the images.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  sourceMap: false,
};

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testdata') yield* walk(path);
    } else if (entry.isFile()) yield path;
  }
}

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
