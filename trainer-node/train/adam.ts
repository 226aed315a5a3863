// Adam with a learning rate that can change between steps (TF.js keeps its optimizers' rate
// protected), used for the cosine decay within each phase.
import * as tf from '@tensorflow/tfjs';

export class Adam {
  private readonly m = new Map<tf.Variable, tf.Variable>();
  private readonly v = new Map<tf.Variable, tf.Variable>();
  private t = 0;
  lr: number;

  constructor(lr: number, private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly epsilon = 1e-7) {
    this.lr = lr;
  }

  step(vars: readonly tf.Variable[], grads: tf.NamedTensorMap): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      for (const w of vars) {
        const g = grads[w.name];
        if (!g) continue;
        let m = this.m.get(w);
        let v = this.v.get(w);
        if (!m || !v) {
          m = tf.variable(tf.zerosLike(w), false);
          v = tf.variable(tf.zerosLike(w), false);
          this.m.set(w, m);
          this.v.set(w, v);
        }
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        w.assign(tf.sub(w, tf.mul(tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon)), this.lr)));
      }
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
