// Placeholder until `kiln collect` lands; replaced by its implementation.
import type { Command } from '../command.ts';

export const collectCommand: Command = {
  help: 'kiln collect: not available yet',
  run: async () => {
    console.error('kiln collect: not available yet');
    return 1;
  },
};
