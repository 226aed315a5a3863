// Browser builds resolve the `long` package to this module (vite.config.ts): protobufjs' minimal
// build asks for `long` only to hand out Long objects from its int64 readers, which onnx-decoder.ts
// does not call (it reads int64 varints exactly itself). Without a `isLong` export protobufjs treats
// `long` as absent.
export default null;
