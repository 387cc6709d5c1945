import * as assert from 'node:assert/strict';
import { checkConnectionName, connectionLocation, parseConnections } from '../../src/extension/registries/connections';

describe('connections setting (no vscode)', () => {
  it('accepts the four built-in shapes and keeps every field as written', () => {
    const { connections, problems } = parseConnections([
      { name: 'team', backend: 'postgres', url: 'postgres://me@db/app', table: 't' },
      { name: 'cache', backend: 'redis', url: 'redis://r:6379', keyPrefix: 'x:' },
      { name: 'shared', backend: 'sqlite', file: 'config/registry.sqlite' },
      { name: 'scratch', backend: 'memory' },
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      connections.map((c) => [c.name, c.backend, connectionLocation(c)]),
      [
        ['team', 'postgres', 'postgres://me@db/app'],
        ['cache', 'redis', 'redis://r:6379'],
        ['shared', 'sqlite', 'config/registry.sqlite'],
        ['scratch', 'memory', 'in memory'],
      ],
    );
    assert.equal(connections[0].table, 't');
  });

  it('leaves out bad entries with a reason each, and keeps the good ones', () => {
    const { connections, problems } = parseConnections(
      [
        { name: 'ok', backend: 'memory' },
        'text',
        { backend: 'memory' },
        { name: 'has space', backend: 'memory' },
        { name: 'workspace', backend: 'memory' },
        { name: 'OK', backend: 'memory' },
        { name: 'pg', backend: 'postgres' },
        { name: 'f', backend: 'sqlite', file: '  ' },
        { name: 'x', backend: 'mongodb' },
      ],
      ['memory', 'postgres', 'sqlite', 'redis'],
    );
    assert.deepEqual(
      connections.map((c) => c.name),
      ['ok'],
    );
    assert.equal(problems.length, 8);
    assert.match(problems[0], /Connection 2 is not an object/);
    assert.match(problems[1], /needs a name/);
    assert.match(problems[2], /letters, digits/);
    assert.match(problems[3], /workspace's own registry/);
    assert.match(problems[4], /already/);
    assert.match(problems[5], /needs "url"/);
    assert.match(problems[6], /needs "file"/);
    assert.match(problems[7], /unknown backend "mongodb"/);
  });

  it('without a list of backends, any backend id passes (one another extension registers later)', () => {
    assert.equal(parseConnections([{ name: 'e', backend: 'etcd', endpoint: 'http://x' }]).connections.length, 1);
    assert.deepEqual(parseConnections(undefined), { connections: [], problems: [] });
    assert.equal(parseConnections({ name: 'x' }).problems.length, 1);
  });

  it('names: part of value-tab URIs, unique regardless of case', () => {
    assert.equal(checkConnectionName('team-db_2.prod'), undefined);
    assert.ok(checkConnectionName(''));
    assert.ok(checkConnectionName('a/b'));
    assert.ok(checkConnectionName('-x'));
    assert.ok(checkConnectionName('Workspace'));
    assert.ok(checkConnectionName('Team', ['team']));
    assert.ok(checkConnectionName('x'.repeat(64)));
  });
});
