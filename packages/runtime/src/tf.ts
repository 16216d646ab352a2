// The single TensorFlow.js instance every package uses: the full build (gradients are registered there).
export * as tf from '@tensorflow/tfjs';
