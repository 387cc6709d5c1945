import * as assert from 'node:assert/strict';
import { openRegistry, RegistryError } from '../../src/registry';
import type { RegistryConfig } from '../../src/registry';
import { redactSecrets, redactUrl } from '../../src/registry/redact';
import { expectCode } from '../conformance/suite';

describe('openRegistry configuration', () => {
  const bad: [string, unknown, RegExp][] = [
    ['not an object', 'sqlite', /must be an object/],
    ['null', null, /must be an object/],
    ['no backend', {}, /backend must be one of memory, sqlite, postgres, redis/],
    ['unknown backend', { backend: 'mysql' }, /backend .*"mysql"/],
    ['bad maxValueBytes', { backend: 'memory', maxValueBytes: -1 }, /maxValueBytes/],
    ['bad logger', { backend: 'memory', logger: {} }, /logger/],
    ['sqlite without file', { backend: 'sqlite' }, /file/],
    ['postgres without url', { backend: 'postgres' }, /url/],
    ['redis without url', { backend: 'redis' }, /url/],
    ['postgres with an injected table name', { backend: 'postgres', url: 'postgres://127.0.0.1:1/x', table: 'registry; DROP TABLE x' }, /table/],
  ];
  for (const [what, config, msg] of bad) {
    it(`rejects ${what} with INVALID_CONFIG naming the field`, async () => {
      await expectCode(openRegistry(config as RegistryConfig), 'INVALID_CONFIG', msg);
    });
  }
  it('RegistryError.is recognises codes', () => {
    const e: unknown = new RegistryError('NOT_FOUND', 'Key "x" does not exist.');
    assert.ok(e instanceof Error);
    assert.ok(RegistryError.is(e));
    assert.ok(RegistryError.is(e, 'NOT_FOUND'));
    assert.ok(!RegistryError.is(e, 'CLOSED'));
    assert.ok(!RegistryError.is(new Error('x')));
  });
});

describe('redaction', () => {
  it('hides passwords in URLs and messages', () => {
    assert.equal(redactUrl('postgres://bob:s3cret@db.example:5432/app'), 'postgres://bob:***@db.example:5432/app');
    assert.equal(redactUrl('redis://:hunter2@127.0.0.1:6379'), 'redis://:***@127.0.0.1:6379');
    assert.equal(redactUrl('postgres://bob@db/app?password=pw'), 'postgres://bob@db/app?password=***');
    assert.equal(redactUrl('not a url //u:pw@host'), 'not a url //u:***@host');
    assert.equal(redactSecrets('auth failed for pw123 (pw123)', ['pw123', undefined, '']), 'auth failed for *** (***)');
  });
});
