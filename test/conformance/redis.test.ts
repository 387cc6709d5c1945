import { openRegistry } from '../../src/registry';
import type { RegistryStorage } from '../../src/registry/types';
import { deleteUnder, freshPrefix, redisSkipReason, redisUrl, runPrefix } from '../support/redis';
import { describeConformance } from './suite';

const prefixes = new WeakMap<RegistryStorage, string>();

describeConformance(
  'redis',
  {
    async open(options) {
      const keyPrefix = freshPrefix();
      const r = await openRegistry({ backend: 'redis', url: redisUrl!, keyPrefix, ...options });
      prefixes.set(r, keyPrefix);
      return r;
    },
    async openPeer(registry) {
      return openRegistry({ backend: 'redis', url: redisUrl!, keyPrefix: prefixes.get(registry)! });
    },
    async cleanup() {
      await deleteUnder(runPrefix);
    },
  },
  { skip: redisSkipReason },
);
