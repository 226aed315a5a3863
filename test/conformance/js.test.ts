import { registerConformance } from './register-conformance.ts';

registerConformance('js');
