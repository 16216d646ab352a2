// Stand-in for sharp in the GPU bundle (tools/gpu/prepare.sh): the GPU run reads Fashion-MNIST's raw IDX pixels and
// never decodes or encodes images, so the native library is not carried. Any use fails with this message.
function sharp(): never {
  throw new Error('sharp is not available in the tools/gpu bundle (image decoding/encoding is not part of the GPU run)');
}
export default sharp;
