import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openRegistry } from '../../src/registry';
import { describeConformance } from './suite';

// Every registry gets a fresh file in its own temporary folder; the folders go after each test.
const dirs: string[] = [];

describeConformance('sqlite', {
  open: (options) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nautilus-sqlite-conf-'));
    dirs.push(dir);
    return openRegistry({ backend: 'sqlite', file: path.join(dir, 'registry.db'), ...options });
  },
  cleanup: async () => {
    for (const dir of dirs.splice(0)) {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
