import { buildConfig } from '../../tsdown.base.js';

export default buildConfig();
