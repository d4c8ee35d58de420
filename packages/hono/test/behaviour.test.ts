import { behaviourSuite } from '../../express/test/suite.js';
import { honoHarness } from './harness.js';

behaviourSuite(honoHarness);
