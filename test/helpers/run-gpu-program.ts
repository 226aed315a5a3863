import type { GpuProgram } from '../../kernels/webgpu/contract.ts';

/** Runs one program with inputs by slot; output 0 is read back. Output buffer starts as NaN. */
export async function runProgram(device: GPUDevice, program: GpuProgram, inputs: readonly Float32Array[], outSize: number): Promise<Float32Array> {
  const make = (data: Float32Array, usage: number): GPUBuffer => {
    const buf = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage });
    device.queue.writeBuffer(buf, 0, new Float32Array(data));
    return buf;
  };
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const out = make(new Float32Array(outSize).fill(NaN), storage);
  // a kernel-made constant (32-bit values: ShaderBuilder.constant) is bound as its bytes
  const constant = (ref: GpuProgram['bindings'][number]): Float32Array => new Float32Array((ref.data!.data as Float32Array | Int32Array | Uint32Array).slice().buffer);
  const buffers = program.bindings.map((ref) => (ref.kind === 'output' ? out : make(ref.kind === 'constant' ? constant(ref) : inputs[ref.index]!, storage)));
  const uniforms = device.createBuffer({ size: program.uniforms.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniforms, 0, new Uint32Array(program.uniforms));
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: program.shader }), entryPoint: 'main' } });
  const entries = [...buffers, uniforms].map((buffer, binding) => ({ binding, resource: { buffer } }));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
  pass.dispatchWorkgroups(...program.dispatch);
  pass.end();
  const staging = device.createBuffer({ size: out.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  encoder.copyBufferToBuffer(out, 0, staging, 0, out.size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const result = new Float32Array(staging.getMappedRange().slice(0, outSize * 4));
  staging.unmap();
  return result;
}
