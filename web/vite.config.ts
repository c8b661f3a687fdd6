// Two ES modules with stable names, no hashes, so a host page can embed the element:
//   usage-page.js  the <usage-page> custom element (styles inside its shadow root)
//   host.js        the /usage page around it (identity switcher, token form)
// public/index.html is the /usage page's template (gateway/usage_page.py fills it in).
// Output goes to gateway/static/usage/ (USAGE_PAGE_OUT_DIR overrides), committed:
// `serve` needs no npm. sources.json records a digest of every input
// (tests/gateway/test_usage_page.py recomputes it, so a source edited without `make web`
// fails the suite).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const web = fileURLToPath(new URL('.', import.meta.url));
const root = join(web, '..');
const outDir = process.env.USAGE_PAGE_OUT_DIR ?? join(root, 'gateway', 'static', 'usage');

/** The inputs of the build, as paths relative to the repository (sorted, posix). */
export const SOURCES = [
  'web/src',
  'web/public',
  'web/package.json',
  'web/package-lock.json',
  'web/vite.config.ts',
  'web/codegen.yml',
  'web/tsconfig.json',
  'operations/usage_page.graphql',
  'operations/usage_live.graphql',
  'operations/usage_chart.graphql',
  'operations/members.graphql',
  'operations/seats.graphql',
];

function files(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .filter((name) => name !== 'generated')
    .flatMap((name) => files(`${path}/${name}`));
}

function sourcesDigest(): string {
  const digest = createHash('sha256');
  for (const path of SOURCES.flatMap(files).sort()) {
    digest.update(`${path}\0`);
    digest.update(readFileSync(join(root, path)));
    digest.update('\0');
  }
  return digest.digest('hex');
}

function stamp(): Plugin {
  return {
    name: 'usage-page-sources',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'sources.json',
        source: `${JSON.stringify({ sha256: sourcesDigest(), sources: SOURCES }, null, 2)}\n`,
      });
    },
  };
}

export default defineConfig({
  publicDir: 'public',
  plugins: [stamp()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: false,
    reportCompressedSize: false,
    lib: {
      entry: {
        'usage-page': join(web, 'src', 'usage-page.ts'),
        host: join(web, 'src', 'host.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      output: { chunkFileNames: '[name].js' },
    },
  },
});

