// Copies GraphiQL's browser builds from node_modules/ (installed by `npm ci` from
// package-lock.json; vendor.sh runs both) into gateway/static/graphiql/, with the
// license of every package whose code those files carry. The gateway serves that
// folder, committed, so GraphiQL renders without a network and `make demo` needs
// no npm. Also writes versions.json: what was copied, for the page and the tests.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, 'node_modules');
const out = join(here, '..', 'gateway', 'static', 'graphiql');

// The UMD builds, loaded in this order by gateway/graphiql.html: React and ReactDOM
// as globals, then GraphiQL (which bundles @graphiql/react, its toolkit, graphql and
// graphql-ws, and exposes GraphiQL.React and GraphiQL.GraphQL), then the explorer
// plugin (which bundles graphiql-explorer and uses those globals).
const FILES = [
  ['react', 'umd/react.production.min.js', 'react.production.min.js'],
  ['react-dom', 'umd/react-dom.production.min.js', 'react-dom.production.min.js'],
  ['graphiql', 'graphiql.min.js', 'graphiql.min.js'],
  ['graphiql', 'graphiql.min.css', 'graphiql.min.css'],
  ['@graphiql/plugin-explorer', 'dist/index.umd.js', 'plugin-explorer.umd.js'],
  ['@graphiql/plugin-explorer', 'dist/style.css', 'plugin-explorer.css'],
];
const LICENSE_NAMES = /^(licen[cs]e|copying)(\.(md|txt))?$/i;
// @graphiql/plugin-explorer's package ships no license file; it is MIT and lives in
// the graphql/graphiql repository, whose LICENSE graphiql's package ships.
const LICENSE_FROM = { '@graphiql/plugin-explorer': 'graphiql' };

const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const installed = Object.entries(lock.packages)
  .filter(([path, entry]) => path !== '' && !entry.dev)
  .map(([path, entry]) => ({
    path: join(here, path),
    name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length),
    version: entry.version,
    license: entry.license,
  }))
  .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
const top = (name) => installed.find((p) => p.path === join(modules, name));

// A few packages ship no license file, only package.json's license field: then that
// field, the author and the repository, as the package states them.
function licenseText(name, path) {
  const source = LICENSE_FROM[name] ? top(LICENSE_FROM[name]).path : path;
  const file = readdirSync(source).find((entry) => LICENSE_NAMES.test(entry));
  if (file) return readFileSync(join(source, file), 'utf8').trim();
  const meta = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
  const author = typeof meta.author === 'object' ? meta.author.name : meta.author;
  const repository = typeof meta.repository === 'object' ? meta.repository.url : meta.repository;
  return [
    `The package ships no license file; its package.json states "license": "${meta.license}".`,
    author && `Author: ${author}`,
    repository && `Repository: ${repository}`,
  ]
    .filter(Boolean)
    .join('\n');
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'licenses'), { recursive: true });
const versions = {};
for (const [name, from, to] of FILES) {
  const source = join(modules, name, from);
  if (!existsSync(source)) throw new Error(`${name} ${top(name).version} has no ${from}`);
  copyFileSync(source, join(out, to));
  versions[name] = top(name).version;
}
// Each vendored package's own license, then every package the lock installs for
// them (their code is bundled into graphiql.min.js and plugin-explorer.umd.js).
for (const name of Object.keys(versions)) {
  const file = `${name.replace('@', '').replace('/', '-')}.LICENSE`;
  writeFileSync(join(out, 'licenses', file), licenseText(name, top(name).path) + '\n');
}
const notices = installed.map(
  (p) => `${'='.repeat(78)}\n${p.name}@${p.version} (${p.license})\n\n${licenseText(p.name, p.path)}\n`,
);
writeFileSync(
  join(out, 'licenses', 'THIRD-PARTY-LICENSES.txt'),
  'The packages graphiql/package-lock.json installs, whose code the files of this\n' +
    'folder carry (graphiql.min.js and plugin-explorer.umd.js bundle their\n' +
    'dependencies), with their licenses.\n\n' +
    notices.join('\n'),
);
writeFileSync(join(out, 'versions.json'), JSON.stringify(versions, null, 2) + '\n');
console.log(`vendored into ${out}: ${JSON.stringify(versions)}`);
