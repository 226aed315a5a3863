// Probability bars: one row per class, the top one highlighted.
export function renderBars(list: HTMLElement, labels: readonly string[], probabilities: ArrayLike<number>): void {
  let top = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[top]!) top = i;
  if (list.children.length !== probabilities.length) {
    list.replaceChildren(
      ...Array.from({ length: probabilities.length }, () => {
        const li = document.createElement('li');
        li.innerHTML = '<span class="label"></span><span class="track"><span class="fill"></span></span><span class="pct"></span>';
        return li;
      }),
    );
  }
  Array.from(list.children).forEach((li, i) => {
    const p = probabilities[i]!;
    li.classList.toggle('top', i === top);
    (li.querySelector('.label') as HTMLElement).textContent = labels[i] ?? String(i);
    (li.querySelector('.fill') as HTMLElement).style.width = `${(p * 100).toFixed(1)}%`;
    (li.querySelector('.pct') as HTMLElement).textContent = `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;
  });
}

export function softmax(values: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]!);
  const out = Float32Array.from({ length: values.length }, (_, i) => Math.exp(values[i]! - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / sum);
}

/** Class probabilities from a classifier output that may be logits or already probabilities. */
export function probabilitiesOf(values: ArrayLike<number>, kind: 'logits' | 'probabilities' | 'values' | undefined): Float32Array {
  if (kind === 'probabilities') return Float32Array.from(values);
  if (kind === undefined) {
    let sum = 0;
    let nonNegative = true;
    for (let i = 0; i < values.length; i++) {
      sum += values[i]!;
      if (values[i]! < 0) nonNegative = false;
    }
    if (nonNegative && Math.abs(sum - 1) < 1e-3) return Float32Array.from(values);
  }
  return softmax(values);
}
