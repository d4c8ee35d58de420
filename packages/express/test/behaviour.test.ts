import { expressHarness } from './harness.js';
import { behaviourSuite } from './suite.js';

behaviourSuite(expressHarness);
