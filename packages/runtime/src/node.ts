// Node-only surface of @duet/runtime: registers the Node backends eagerly and exposes their diagnostics.
import { registerNodeBackends } from './backends-node.js';

export * from './index.js';
export {
  registerNodeBackends,
  createTensorflowProvider,
  createDawnProvider,
  diagnoseVulkan,
  explainNoAdapter,
  TENSORFLOW_HINT,
  type VulkanDiagnosis,
  type TensorflowProviderDeps,
  type DawnProviderDeps,
} from './backends-node.js';

registerNodeBackends();
