// Conv2DBackpropFilter (the conv2d weight gradient) for backends without it (tfjs-backend-wasm 4.22), composed
// from ops they run natively: one matmul per filter tap,
//   dW[kh, kw] = X_tap^T · dY,  X_tap = x_padded[:, kh :: sh, kw :: sw, :] cropped to [B, OH, OW, Ci]
// and, for patch embeddings (stride = kernel, no padding), a single matmul on a reshaped input.
// Hundreds of times faster than the cpu kernel on wasm (XNNPACK matmuls instead of JS loops over TensorBuffer.get).
import * as tf from '@tensorflow/tfjs';

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** dW for x [B, H, W, Ci] (NHWC) and dy [B, OH, OW, Co]; returns [KH, KW, Ci, Co]. Runs on the active backend. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: Omit<Attrs, 'dataFormat'>): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = attrs.filterShape;
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, padInfo } = info;
    const b = x.shape[0];
    const dyFlat = tf.reshape(dy, [b * oh * ow, co]); // [N, Co]
    const unpadded = padInfo.top === 0 && padInfo.left === 0;
    if (unpadded && sh === kh && sw === kw) {
      // Patch embedding: non-overlapping patches are a reshape of the input.
      const cropped = tf.slice(x, [0, 0, 0, 0], [b, oh * kh, ow * kw, ci]);
      const patches = tf.transpose(tf.reshape(cropped, [b, oh, kh, ow, kw, ci]), [2, 4, 5, 0, 1, 3]); // [KH, KW, Ci, B, OH, OW]
      return tf.reshape(tf.matMul(tf.reshape(patches, [kh * kw * ci, b * oh * ow]), dyFlat), [kh, kw, ci, co]);
    }
    const needH = (oh - 1) * sh + kh;
    const needW = (ow - 1) * sw + kw;
    const xp = tf.pad(x, [
      [0, 0],
      [padInfo.top, Math.max(0, needH - x.shape[1] - padInfo.top)],
      [padInfo.left, Math.max(0, needW - x.shape[2] - padInfo.left)],
      [0, 0],
    ]);
    // dY^T · X_tap rather than X_tap^T · dY: XNNPACK has no transposed-A matmul (tfjs transposes per call, ~10x slower).
    const dyT = tf.transpose(dyFlat); // [Co, N]
    const taps: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap =
          sh === 1 && sw === 1
            ? tf.slice(xp, [0, i, j, 0], [b, oh, ow, ci])
            : tf.stridedSlice(xp, [0, i, j, 0], [b, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci], [1, sh, sw, 1]); // [B, OH, OW, Ci]
        taps.push(tf.matMul(dyT, tf.reshape(tap, [b * oh * ow, ci]))); // [Co, Ci]
      }
    }
    return tf.transpose(tf.reshape(tf.stack(taps), [kh, kw, co, ci]), [0, 1, 3, 2]);
  });
}

/** Registers the composed kernel for `backendName` unless it already has one. Returns whether it registered. */
export function registerComposedConv2DBackpropFilter(backendName: string): boolean {
  if (tf.getKernel('Conv2DBackpropFilter', backendName)) return false;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      // Nested ops inside a kernel are not taped (engine kernelDepth > 0); returning a Tensor hands it over as the output.
      const engine = tf.engine();
      const a = attrs as unknown as Attrs;
      return tf.tidy(() => {
        let x = engine.makeTensorFromTensorInfo(inputs['x'] as TensorInfo) as tf.Tensor4D;
        let dy = engine.makeTensorFromTensorInfo(inputs['dy'] as TensorInfo) as tf.Tensor4D;
        if (a.dataFormat === 'NCHW') {
          x = tf.transpose(x, [0, 2, 3, 1]);
          dy = tf.transpose(dy, [0, 2, 3, 1]);
        }
        return conv2dFilterGrad(x, dy, a);
      }) as never;
    },
  });
  return true;
}
