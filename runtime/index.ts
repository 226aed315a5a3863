// The public API: what `import { ... } from 'kilnjs'` gives, in browsers and in Node.
export { InferenceSession } from './api/inference-session.ts';
export type { SessionOptions, Verification, InputMetadata, FeedsType, ReturnType, ExecutionProvider, OutputLocation } from './api/inference-session.ts';
export type { FetchesType, RunOptions } from './api/run-arguments.ts';
export { env, type Env } from './api/env.ts';
export { Tensor } from '../core/tensor.ts';
export type { Dims, AnyTensor, TensorLocation, GpuBufferDataType, GpuBufferTensorOptions, GpuBuffer, GpuDevice } from '../core/tensor.ts';
export { generate } from './generate/generate.ts';
export type { GenerateOptions, GenerateResult, GenerateSession } from './generate/generate.ts';
export type { DataType } from '../core/dtype.ts';
export { KilnError } from '../core/errors.ts';
// Signature checks: a raw 32-byte Ed25519 key -> the CryptoKey SessionOptions.publicKey takes.
export { importKilnPublicKey } from './format/kiln/kiln-signature.ts';
export type { KilnErrorCode } from '../core/errors.ts';
export type { Placement, StepPlacement } from './backends/backend.ts';
export type { TelemetryOptions, DriftOptions, SessionTelemetry, TelemetrySnapshot, Percentiles, DriftAlert, DriftWindowResult, FeatureDrift, DriftState, ExportState, FlushResult } from './telemetry/telemetry-api.ts';
export type { DriftReference, FeatureReference } from './telemetry/drift/drift-reference.ts';
export type { BundleSpec, BundleMetadata, InputSpec, OutputSpec, Preprocessing, Provenance } from './format/kiln/bundle-spec.ts';
