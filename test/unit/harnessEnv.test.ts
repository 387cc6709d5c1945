// The test harness (test/harness/env.mjs childEnv) starts npm and code-server with the environment
// of the script that runs it minus what `npm run` added. Without that, `npm start` on an empty
// .vscode-test/ failed: the nested `npm install code-server` inherited the outer npm's
// npm_config_user_agent ("... node/v20 ..."), and code-server's postinstall refused to build under
// what it took for Node 20. `node test/harness/install.mjs` worked, so only the npm route broke.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const envModule = pathToFileURL(path.resolve(__dirname, '..', '..', '..', 'test', 'harness', 'env.mjs')).href;

/** Runs childEnv(input) in a separate Node (the harness is ES modules; this suite is CommonJS). */
function childEnvOf(input: Record<string, string>): Record<string, string> {
  const script = `import { childEnv } from ${JSON.stringify(envModule)};
process.stdout.write(JSON.stringify(childEnv(JSON.parse(process.argv[1]))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(input)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

describe('test harness: the environment of the processes it starts', () => {
  it('drops what npm run exported about itself and our script, keeps the user\'s own settings', () => {
    const project = path.join(path.sep, 'home', 'me', 'nautilus');
    const userPath = ['/opt/node24/bin', '/usr/local/bin', '/usr/bin'].join(path.delimiter);
    const out = childEnvOf({
      PATH: [
        path.join(project, 'node_modules', '.bin'),
        path.join(path.sep, 'home', 'me', 'node_modules', '.bin'),
        path.join(path.sep, 'home', 'node_modules', '.bin'),
        path.join(path.sep, 'node_modules', '.bin'),
        '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
        userPath,
      ].join(path.delimiter),
      HOME: '/home/me',
      NODE: '/usr/bin/node',
      INIT_CWD: project,
      npm_node_execpath: '/usr/bin/node',
      npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
      npm_command: 'run',
      npm_lifecycle_event: 'start',
      npm_lifecycle_script: 'node scripts/start.mjs',
      npm_package_json: path.join(project, 'package.json'),
      npm_package_name: 'nautilus-registry',
      npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
      npm_config_npm_version: '11.19.1',
      npm_config_node_gyp: '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
      npm_config_global_prefix: '/usr',
      npm_config_local_prefix: project,
      npm_config_registry: 'https://mirror.example.test/',
      npm_config_cafile: '/etc/ssl/certs/ca-certificates.crt',
      NAUTILUS_VSCODE_TEST_DIR: '/tmp/cache',
    });
    assert.deepEqual(out, {
      PATH: userPath,
      HOME: '/home/me',
      npm_config_registry: 'https://mirror.example.test/',
      npm_config_cafile: '/etc/ssl/certs/ca-certificates.crt',
      NAUTILUS_VSCODE_TEST_DIR: '/tmp/cache',
    });
  });

  it('changes nothing when the script was started without npm', () => {
    const input = { PATH: `/work/node_modules/.bin${path.delimiter}/usr/bin`, NODE: '/usr/bin/node', npm_config_registry: 'https://r.test/' };
    assert.deepEqual(childEnvOf(input), input);
  });

  it('lets a nested npm compute its own user agent under `npm run` (what code-server\'s postinstall reads)', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-npm-env-'));
    try {
      // outer: a script started by `npm run` that starts `npm run inner`, once as the harness does
      // (childEnv) and once with its environment as it is; inner prints the user agent it was given.
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
        name: 'npm-env-probe',
        private: true,
        scripts: { outer: 'node outer.mjs', inner: 'node -e "console.log(process.env.npm_config_user_agent)"' },
      }));
      writeFileSync(path.join(dir, 'outer.mjs'), `import { spawnSync } from 'node:child_process';
import { childEnv } from ${JSON.stringify(envModule)};
const inner = (env) => spawnSync('npm', ['run', '-s', 'inner'], { env, encoding: 'utf8' }).stdout.trim();
console.log(JSON.stringify({ sanitized: inner(childEnv()), inherited: inner(process.env) }));
`);
      // --user-agent stands in for "the outer npm ran under another Node": npm exports it to the script.
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const key of Object.keys(env)) {
        if (/^npm_/i.test(key)) {
          delete env[key];
        }
      }
      const r = spawnSync('npm', ['run', '-s', 'outer', '--user-agent=npm/0 node/v0 outer'], { cwd: dir, env, encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      const { sanitized, inherited } = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { sanitized: string; inherited: string };
      assert.equal(inherited, 'npm/0 node/v0 outer', 'control: without childEnv the nested npm passes the outer user agent on');
      assert.match(sanitized, new RegExp(`^npm/[0-9.]+ node/${process.version.replace(/\./g, '\\.')} `));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
