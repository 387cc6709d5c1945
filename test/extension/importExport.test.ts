/** Import and export of JSON files: large files in chunks, a report of what was skipped and why. */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegistryStorage } from '../../src/registry';
import { freshRegistry, isRegistryError } from './helpers';

interface ImportReport {
  total: number;
  stored: number;
  converted: number;
  skipped: { key: string; reason: string }[];
  cancelled: boolean;
}

describe('import / export', () => {
  let registry: RegistryStorage;
  let dir: string;

  beforeEach(async () => {
    registry = await freshRegistry();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-io-'));
  });

  it('imports the fixture workspace file', async () => {
    const fixture = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'sample.json');
    const report = await vscode.commands.executeCommand<ImportReport>('nautilusRegistry.import', fixture);
    assert.equal(report.stored, 5);
    assert.equal(await registry.retrieve('team/api/url'), 'https://example.test');
  });

  it('imports what is valid, skips the rest with reasons, and exports it back identically', async () => {
    const data: Record<string, unknown> = {};
    for (let i = 0; i < 2500; i++) {
      data[`bulk/${String(i).padStart(4, '0')}`] = `value ${i}`;
    }
    data['bad\u0001control'] = 'x';
    data['nul/value'] = 'a\u0000b';
    data['null/value'] = null;
    data['obj/value'] = { a: 1 };
    const file = path.join(dir, 'big.json');
    writeFileSync(file, JSON.stringify(data));
    const report = await vscode.commands.executeCommand<ImportReport>('nautilusRegistry.import', file);
    assert.equal(report.total, 2504);
    assert.equal(report.stored, 2501);
    assert.equal(report.converted, 1);
    assert.deepEqual(report.skipped.map((s) => s.key).sort(), ['bad\u0001control', 'nul/value', 'null/value'].sort());
    for (const s of report.skipped) {
      assert.ok(s.reason.length > 5, `a reason for ${s.key}`);
    }
    assert.equal(await registry.count('bulk/'), 2500);
    assert.equal(await registry.retrieve('obj/value'), '{"a":1}');

    const out = path.join(dir, 'out.json');
    const exp = await vscode.commands.executeCommand<{ exported: number; skipped: unknown[] }>('nautilusRegistry.export', { uri: vscode.Uri.file(out) });
    assert.equal(exp.exported, 2501);
    const back = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
    assert.equal(Object.keys(back).length, 2501);
    assert.equal(back['bulk/0042'], 'value 42');
    assert.deepEqual(Object.keys(back), [...Object.keys(back)].sort(), 'exported in key order');
  });

  it('imports under a prefix and can keep existing keys', async () => {
    await registry.store('pre/a', 'old');
    const file = path.join(dir, 'p.json');
    writeFileSync(file, JSON.stringify({ a: 'new', b: 'B' }));
    const report = await vscode.commands.executeCommand<ImportReport>('nautilusRegistry.import', file, { prefix: 'pre/', existing: 'skip' });
    assert.equal(report.stored, 1);
    assert.deepEqual(report.skipped, [{ key: 'pre/a', reason: 'the key exists already' }]);
    assert.equal(await registry.retrieve('pre/a'), 'old');
    assert.equal(await registry.retrieve('pre/b'), 'B');
  });

  it('rejects a file that is not a JSON object, importing nothing', async () => {
    const file = path.join(dir, 'arr.json');
    writeFileSync(file, '[1, 2]');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('nautilusRegistry.import', file)), (err) => isRegistryError(err, 'INVALID_VALUE'));
    writeFileSync(file, '{ not json');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('nautilusRegistry.import', file)), (err) => isRegistryError(err, 'INVALID_VALUE'));
    assert.equal(await registry.count(), 0);
  });

  it('imports 100,000 keys without blocking the extension host for long', async function () {
    this.timeout(120_000);
    const data: Record<string, string> = {};
    for (let i = 0; i < 100_000; i++) {
      data[`k/${Math.floor(i / 1000)}/${i}`] = `v${i}`;
    }
    const file = path.join(dir, 'huge.json');
    writeFileSync(file, JSON.stringify(data));
    // Measure the longest gap of a 20 ms heartbeat while the import runs: chunks yield in between.
    let longest = 0;
    let last = Date.now();
    const beat = setInterval(() => {
      const now = Date.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 20);
    const started = Date.now();
    let report: ImportReport;
    try {
      report = await vscode.commands.executeCommand<ImportReport>('nautilusRegistry.import', file);
    } finally {
      clearInterval(beat);
    }
    const took = Date.now() - started;
    assert.equal(report.stored, 100_000);
    assert.equal(await registry.count(), 100_000);
    console.log(`      100,000 keys imported in ${took} ms; longest event-loop gap ${longest} ms (${((longest / took) * 100).toFixed(1)}% of the import)`);
    // A ratio, not an absolute time: no single stall takes a large share of the whole import.
    assert.ok(longest < took / 2, `one stall of ${longest} ms in an import of ${took} ms`);
  });
});
