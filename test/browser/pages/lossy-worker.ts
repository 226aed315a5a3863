// A Kiln worker for the device-loss test: Kiln's own host (runtime/worker/host.ts), plus a hook that
// records every GPUDevice created here and destroys them all on { kilnTest: 'lose-devices' }.
// Passed to InferenceSession.create as { worker }, which is how apps bring their own worker.
import { exposeHost } from '../../../runtime/worker/host.ts';
import { workerScopeEndpoint } from '../../../runtime/worker/scope.ts';

const devices: GPUDevice[] = [];
const requestDevice = GPUAdapter.prototype.requestDevice;
GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor): Promise<GPUDevice> {
  const device = await requestDevice.call(this, descriptor);
  devices.push(device);
  return device;
};

addEventListener('message', (e: MessageEvent<unknown>) => {
  if ((e.data as { kilnTest?: unknown } | null)?.kilnTest !== 'lose-devices') return;
  const lost = devices.splice(0);
  for (const d of lost) d.destroy();
  postMessage({ kilnTest: 'lost', devices: lost.length });
});

exposeHost(workerScopeEndpoint());
