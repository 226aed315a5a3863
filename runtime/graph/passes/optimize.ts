import type { Graph, Model } from '../ir.ts';

/** Shape-independent graph rewrites, run once per session before planning. */
export function optimizeGraph(model: Model): Graph {
  return model.graph;
}
