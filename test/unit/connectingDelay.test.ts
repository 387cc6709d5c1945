import * as assert from 'node:assert/strict';
import { ConnectingDelay } from '../../src/extension/connectingDelay';
import { SHOW_CONNECTING_AFTER_MS } from '../../src/extension/settings';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ConnectingDelay: "opening" shows only once an open takes a moment', () => {
  it('renders other states at once', () => {
    const seen: string[] = [];
    new ConnectingDelay().render(false, () => seen.push('connected'));
    assert.deepEqual(seen, ['connected']);
  });

  it('renders "connecting" only after the delay', async () => {
    const seen: string[] = [];
    const d = new ConnectingDelay();
    d.render(true, () => seen.push('connecting'));
    await sleep(SHOW_CONNECTING_AFTER_MS / 3);
    assert.deepEqual(seen, [], 'nothing yet');
    await sleep(SHOW_CONNECTING_AFTER_MS);
    assert.deepEqual(seen, ['connecting']);
  });

  it('a quick open never shows "connecting": the next state replaces it', async () => {
    const seen: string[] = [];
    const d = new ConnectingDelay();
    d.render(true, () => seen.push('connecting'));
    d.render(false, () => seen.push('connected'));
    await sleep(SHOW_CONNECTING_AFTER_MS * 1.5);
    assert.deepEqual(seen, ['connected']);
  });

  it('dispose drops a pending render', async () => {
    const seen: string[] = [];
    const d = new ConnectingDelay();
    d.render(true, () => seen.push('connecting'));
    d.dispose();
    await sleep(SHOW_CONNECTING_AFTER_MS * 1.5);
    assert.deepEqual(seen, []);
  });
});
