import { openRegistry } from '../../src/registry';
import { describeConformance } from './suite';

describeConformance('memory', {
  open: (options) => openRegistry({ backend: 'memory', ...options }),
});
