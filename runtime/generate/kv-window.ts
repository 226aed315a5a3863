// The KV cache generate() keeps between steps, at a fixed number of slots (the window), so every
// decode step runs the same plan on the same shapes: time per token does not grow with the position
// and, after the first step, nothing is allocated. Real entries sit right-aligned (left padding);
// attention_mask zeroes the empty slots, and position_ids carry the true positions, so a model
// whose graph concatenates past and new K/V gives the same answers as with a growing cache.
// On the GPU the cache is one buffer per past input, fed in place (no upload); a step's present
// ([1, H, slots + 1, D]) is copied back into it shifted by one slot, head by head, on the GPU.
// A stacked cache ([2, 1, H, slots, D], com.microsoft Attention's) is the same with 2H slabs.
import { allocData, type DataType, type TensorData } from '../../core/dtype.ts';
import { fail } from '../../core/errors.ts';
import { Tensor, gpuBufferTensor, type AnyTensor } from '../../core/tensor.ts';
import { bufferDevices } from '../backends/webgpu/gpu-buffer-pool.ts';

/** Kiln's GPU layout: one 32-bit word per element, whatever the type */
const GPU_WORD = 4;

export class KvWindow {
  private gpu: { buffer: GPUBuffer; tensor: AnyTensor } | undefined;
  private host: AnyTensor | undefined;

  /** the slabs of `slots` rows: heads, or 2 x heads for a stacked cache */
  private readonly heads: number;

  constructor(
    private readonly dtype: DataType,
    /** the past's dims before the sequence axis: [1, heads], or [2, 1, heads] stacked */
    private readonly lead: readonly number[],
    private readonly headDim: number,
    readonly slots: number,
    private readonly device: GPUDevice | undefined,
  ) {
    this.heads = lead.reduce((a, b) => a * b, 1);
  }

  /** what to feed as the past input: [...lead, slots, headDim] */
  get past(): AnyTensor {
    return this.gpu?.tensor ?? this.host ?? fail('INTERNAL', 'the KV window was read before it was filled');
  }

  /** The prompt's present ([...lead, count, D]) into `count` slots from `at` (default: the last `count`). */
  async fill(present: AnyTensor, count: number, encoder: () => GPUCommandEncoder, at = this.slots - count): Promise<void> {
    this.check(present, count);
    await this.copy(present, count, 0, at, count, encoder);
  }

  /** A decode step's present ([...lead, slots + 1, D]): all but its oldest slot become the new past. */
  async shift(present: AnyTensor, encoder: () => GPUCommandEncoder): Promise<void> {
    this.check(present, this.slots + 1);
    await this.copy(present, this.slots + 1, 1, 0, this.slots, encoder);
  }

  release(): void {
    this.gpu?.buffer.destroy();
    this.gpu = undefined;
    this.host = undefined;
  }

  private check(present: AnyTensor, length: number): void {
    const d = present.dims;
    const expected = [...this.lead, length, this.headDim];
    if (d.length !== expected.length || d.some((x, i) => x !== expected[i])) {
      fail('INVALID_MODEL', `generate: a present output has dims [${d.join(', ')}], expected [${expected.join(', ')}] (${this.lead.length === 3 ? '2, ' : ''}batch, heads, sequence, head size)`);
    }
  }

  /** rows [from, from + rows) of each head of `present` (length `length`) -> rows [to, to + rows) of the window */
  private async copy(present: AnyTensor, length: number, from: number, to: number, rows: number, encoder: () => GPUCommandEncoder): Promise<void> {
    const D = this.headDim;
    if (present.location === 'gpu-buffer' && this.device) {
      if (!this.gpu) {
        const bytes = Math.max(16, this.heads * this.slots * D * GPU_WORD);
        // Zeroed by WebGPU: empty slots hold finite values, so masked-out products stay 0, never NaN.
        const buffer = this.device.createBuffer({ label: 'kiln-kv-window', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
        bufferDevices.set(buffer, this.device); // Kiln's own: the session binds it without a validation round trip
        this.gpu = { buffer, tensor: gpuBufferTensor(buffer, { dataType: this.dtype, dims: [...this.lead, this.slots, D] }) };
      }
      const e = encoder();
      for (let h = 0; h < this.heads && rows > 0; h++) {
        e.copyBufferToBuffer(present.gpuBuffer, (h * length + from) * D * GPU_WORD, this.gpu.buffer, (h * this.slots + to) * D * GPU_WORD, rows * D * GPU_WORD);
      }
      return;
    }
    const src = (present.location === 'gpu-buffer' ? await present.getData() : present.data) as Exclude<TensorData, string[]>;
    // A session in a worker hands its feeds' buffers back as new arrays: always read the tensor's current data.
    this.host ??= new Tensor(this.dtype, allocData(this.dtype, this.heads * this.slots * D), [...this.lead, this.slots, D]);
    const dst = this.host.data as Exclude<TensorData, string[]>;
    for (let h = 0; h < this.heads; h++) {
      const start = (h * length + from) * D;
      // Both arrays have the past's element type; Float32Array stands in for any typed array's subarray/set.
      (dst as Float32Array).set((src as Float32Array).subarray(start, start + rows * D), (h * this.slots + to) * D);
    }
  }
}
