// Placeholder until `kiln inspect` lands; replaced by its implementation.
import type { Command } from '../command.ts';

export const inspectCommand: Command = {
  help: 'kiln inspect: not available yet',
  run: async () => {
    console.error('kiln inspect: not available yet');
    return 1;
  },
};
