// Placeholder until `kiln train` lands; replaced by its implementation.
import type { Command } from '../command.ts';

export const trainCommand: Command = {
  help: 'kiln train: not available yet',
  run: async () => {
    console.error('kiln train: not available yet');
    return 1;
  },
};
