import { palisadeBuild } from '../../tsup.base.js';

export default palisadeBuild({ entry: ['src/index.ts', 'src/testing/index.ts', 'src/deadline/index.ts'] });
