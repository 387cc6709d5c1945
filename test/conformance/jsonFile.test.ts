// The fixture backend another extension would add (test/fixtures/jsonFileBackend), run through the
// conformance suite as shipped: dist/conformance.js, the file backend authors get.
import type * as Suite from './suite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as core from '../../src/registry';
import type { Core } from '../fixtures/jsonFileBackend/backend';
import { openJsonFileRegistry } from '../fixtures/jsonFileBackend/backend';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const shipped = require(path.join(__dirname, '..', '..', '..', 'dist', 'conformance.js')) as typeof Suite;

let dir = '';
let n = 0;
shipped.describeConformance(
  'jsonfile',
  {
    async open(options) {
      dir ||= mkdtempSync(path.join(tmpdir(), 'nautilus-jsonfile-'));
      return openJsonFileRegistry(core as unknown as Core, path.join(dir, `r${++n}.json`), options);
    },
    async cleanup() {
      if (dir) {
        rmSync(dir, { recursive: true, force: true });
        dir = '';
      }
    },
    modelOps: 600,
  },
);

// The same backend pretending it has no TTL: the suite's `ttl: false` option checks UNSUPPORTED instead.
let dir2 = '';
shipped.describeConformance(
  'jsonfile',
  {
    async open(options) {
      dir2 ||= mkdtempSync(path.join(tmpdir(), 'nautilus-jsonfile-nottl-'));
      return openJsonFileRegistry(core as unknown as Core, path.join(dir2, `r${++n}.json`), { ...options, noTtl: true });
    },
    async cleanup() {
      if (dir2) {
        rmSync(dir2, { recursive: true, force: true });
        dir2 = '';
      }
    },
    modelOps: 300,
  },
  { ttl: false },
);
