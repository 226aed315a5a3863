// Placeholder until `kiln compress` lands; replaced by its implementation.
import type { Command } from '../command.ts';

export const compressCommand: Command = {
  help: 'kiln compress: not available yet',
  run: async () => {
    console.error('kiln compress: not available yet');
    return 1;
  },
};
