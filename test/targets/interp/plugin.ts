// What LOOPSMITH_PLUGINS names: importing it registers the target.
import { registerTarget } from '../../../targets/registry.js';
import { interpTarget } from './target.js';

registerTarget(interpTarget);
