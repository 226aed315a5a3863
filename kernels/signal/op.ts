import type { OpDefinition } from '../contract.ts';
import { definitions as transforms } from './dft.ts';
import { definitions as windows } from './windows.ts';

/** Signal processing (Whisper-style audio front ends): DFT, STFT, the window generators, MelWeightMatrix. */
export const definitions: readonly OpDefinition[] = [...transforms, ...windows];
