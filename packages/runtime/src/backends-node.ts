// Node-only providers: `tensorflow` (tfjs-node-gpu, else tfjs-node; optional dependencies, loaded only when
// resolvable) and `webgpu` through Dawn (the `webgpu` npm package) over Vulkan / Metal / D3D12.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { registerBackendProvider } from './backend.js';
import { BackendUnavailableError } from './errors.js';
import { activateWebGpu, requestAdapter, summariseAdapter } from './webgpu.js';
import { installDawnTickCapture, patchReadSync } from './dawn-sync-read.js';
import type { BackendAvailability, BackendProvider, InitResult } from './types.js';

const require = createRequire(import.meta.url);

function resolvable(spec: string): boolean {
  try {
    require.resolve(spec);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- tensorflow (libtensorflow via tfjs-node)

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
export const TFJS_NODE = '@tensorflow/tfjs-node';
export const TENSORFLOW_HINT =
  `GPU: npm i ${TFJS_NODE_GPU}@${tf.version_core} on Linux x64 with an NVIDIA driver, CUDA 11.2 and cuDNN 8.1 ` +
  `(its installer downloads libtensorflow 2.9.1, so it needs network access); CPU only: npm i ${TFJS_NODE}@${tf.version_core}`;

export interface TensorflowProviderDeps {
  resolve?: (spec: string) => boolean;
  load?: (spec: string) => Promise<unknown>;
}

export function createTensorflowProvider(deps: TensorflowProviderDeps = {}): BackendProvider {
  const isResolvable = deps.resolve ?? resolvable;
  const load = deps.load ?? ((spec: string) => import(/* @vite-ignore */ spec));
  const installed = () => [TFJS_NODE_GPU, TFJS_NODE].filter(isResolvable);
  const missing = () => new BackendUnavailableError('tensorflow', 'tfjs-node-gpu not installed (nor tfjs-node)', TENSORFLOW_HINT);
  return {
    name: 'tensorflow',
    async probe(): Promise<BackendAvailability> {
      const found = installed();
      if (!found.length) return { backend: 'tensorflow', available: false, autoEligible: false, reason: missing().reason, hint: TENSORFLOW_HINT };
      const gpu = found[0] === TFJS_NODE_GPU;
      return { backend: 'tensorflow', available: true, autoEligible: true, isGpu: gpu, reason: `${found[0]} installed (libtensorflow${gpu ? ', CUDA' : ', CPU'})` };
    },
    async init(): Promise<InitResult> {
      const found = installed();
      if (!found.length) throw missing();
      const failures: string[] = [];
      for (const spec of found) {
        try {
          await load(spec);
        } catch (e) {
          failures.push(`${spec} is installed but failed to load (${(e as Error).message.split('\n')[0]})`);
          continue;
        }
        if (!tf.findBackendFactory('tensorflow')) {
          failures.push(`${spec} loaded but registered no "tensorflow" backend on this @tensorflow/tfjs (${tf.version_core}); install the same version`);
          continue;
        }
        if (!(await tf.setBackend('tensorflow'))) {
          failures.push(`${spec} loaded but the tensorflow backend failed to initialise`);
          continue;
        }
        await tf.ready();
        const gpu = spec === TFJS_NODE_GPU;
        const skipped = [...(found.includes(TFJS_NODE_GPU) ? [] : ['tfjs-node-gpu not installed']), ...failures];
        return {
          backend: 'tensorflow',
          isGpu: gpu,
          device: gpu ? 'GPU (CUDA via libtensorflow, tfjs-node-gpu)' : 'CPU (libtensorflow, tfjs-node)',
          ...(gpu ? {} : { fallbackReason: `${skipped.join('; ')}: using the CPU build tfjs-node` }),
        };
      }
      throw new BackendUnavailableError(
        'tensorflow',
        failures.join('; '),
        'tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1 libraries on LD_LIBRARY_PATH (TF 2.9.1); reinstall with npm rebuild if libtensorflow is missing',
      );
    },
  };
}

// ---------------------------------------------------------------- webgpu through Dawn

interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

/** What the Vulkan loader would see: explains a missing adapter. Linux only; elsewhere Dawn uses Metal / D3D12. */
export interface VulkanDiagnosis {
  loader?: string;
  icdFiles: string[];
  /** ICD manifest -> the Vulkan API version it declares (e.g. "1.1.230" for Debian bookworm's Mesa 22.3 lavapipe). */
  icdApiVersions?: Record<string, string>;
  driverFilesEnv?: string;
}

const LOADER_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

export function diagnoseVulkan(): VulkanDiagnosis {
  const loader = LOADER_PATHS.find((p) => existsSync(p));
  const icdFiles: string[] = [];
  for (const dir of ICD_DIRS) {
    try {
      for (const f of readdirSync(dir)) if (f.endsWith('.json')) icdFiles.push(`${dir}/${f}`);
    } catch {
      /* directory absent */
    }
  }
  const driverFilesEnv = process.env['VK_DRIVER_FILES'] ?? process.env['VK_ICD_FILENAMES'];
  const icdApiVersions: Record<string, string> = {};
  for (const f of [...icdFiles, ...(driverFilesEnv?.split(':').filter(Boolean) ?? [])]) {
    try {
      const v = (JSON.parse(readFileSync(f, 'utf8')) as { ICD?: { api_version?: string } }).ICD?.api_version;
      if (v) icdApiVersions[f] = v;
    } catch {
      /* unreadable manifest: the loader will skip it too */
    }
  }
  return { loader, icdFiles, icdApiVersions, ...(driverFilesEnv ? { driverFilesEnv } : {}) };
}

const MESA_HINT =
  'for the CPU rasteriser llvmpipe: apt-get install mesa-vulkan-drivers (Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers for Mesa 25)';

/** Turns a diagnosis into "what is missing" + "how to get it". */
export function explainNoAdapter(d: VulkanDiagnosis, platform = process.platform): { reason: string; hint: string } {
  if (platform !== 'linux') {
    return { reason: 'Dawn found no WebGPU adapter', hint: platform === 'darwin' ? 'Dawn uses Metal: needs macOS 11+ on a Metal-capable GPU' : 'Dawn uses D3D12/Vulkan: update the GPU driver' };
  }
  if (!d.loader) {
    return {
      reason: 'no WebGPU adapter: the Vulkan loader libvulkan.so.1 is not installed',
      hint: `install it (Debian/Ubuntu: apt-get install libvulkan1) plus a Vulkan driver: the NVIDIA driver for a GPU, or ${MESA_HINT}`,
    };
  }
  // The loader uses only VK_DRIVER_FILES when set, else every registered manifest.
  const effective = d.driverFilesEnv ? d.driverFilesEnv.split(':').filter(Boolean) : d.icdFiles;
  const versions = effective.filter((f) => d.icdApiVersions?.[f]).map((f) => `${f.split('/').pop()}: Vulkan ${d.icdApiVersions![f]}`);
  const oldLavapipe = effective.some((f) => /lvp/.test(f) && /^1\.[012]\./.test(d.icdApiVersions?.[f] ?? ''));
  const tooOld = oldLavapipe
    ? "; Mesa's lavapipe before Mesa 23 (Debian bookworm's 22.3, Vulkan 1.1.230) lacks features Dawn requires (shaderUniform*ArrayDynamicIndexing): use Mesa 25 from bookworm-backports"
    : '';
  if (d.driverFilesEnv) {
    const listed = d.driverFilesEnv.split(':').filter(Boolean);
    const absent = listed.filter((f) => !existsSync(f));
    return {
      reason: `no WebGPU adapter: VK_DRIVER_FILES/VK_ICD_FILENAMES=${d.driverFilesEnv} restricts Vulkan to ${absent.length ? `files that do not exist (${absent.join(', ')})` : `drivers that exposed no usable device${versions.length ? ` (${versions.join(', ')})` : ''}${tooOld}`}`,
      hint: `unset it or point it at an installed driver manifest${d.icdFiles.length ? ` (found: ${d.icdFiles.join(', ')})` : ''}`,
    };
  }
  if (!d.icdFiles.length) {
    return {
      reason: `no WebGPU adapter: the Vulkan loader is installed (${d.loader}) but no Vulkan driver (ICD) is registered in ${ICD_DIRS.join(', ')}`,
      hint: `install the NVIDIA driver (it provides nvidia_icd.json) for a GPU, or ${MESA_HINT}; VK_DRIVER_FILES=/path/to/icd.json selects one`,
    };
  }
  return {
    reason: `no WebGPU adapter: Vulkan drivers are registered (${versions.length ? versions.join(', ') : d.icdFiles.join(', ')}) but none exposed a device Dawn can use${tooOld}`,
    hint: `check the GPU driver matches the kernel module (nvidia-smi, /dev/nvidia* or /dev/dri access in containers); ${MESA_HINT}`,
  };
}

export interface DawnProviderDeps {
  loadDawn?: () => Promise<DawnModule>;
  diagnose?: () => VulkanDiagnosis;
  /** Dawn toggles, e.g. ['backend=vulkan']; default from DUET_DAWN_FLAGS (comma-separated). */
  flags?: string[];
}

export function createDawnProvider(deps: DawnProviderDeps = {}): BackendProvider {
  const loadDawn = deps.loadDawn ?? (async () => (await import('webgpu')) as unknown as DawnModule);
  const diagnose = deps.diagnose ?? diagnoseVulkan;
  const flags = deps.flags ?? (process.env['DUET_DAWN_FLAGS']?.split(',').filter(Boolean) ?? []);
  let gpu: Promise<GPU> | undefined;

  const getGpu = (): Promise<GPU> =>
    (gpu ??= (async () => {
      let dawn: DawnModule;
      try {
        dawn = await loadDawn();
      } catch (e) {
        throw new BackendUnavailableError('webgpu', `the "webgpu" npm package (Dawn) failed to load: ${(e as Error).message.split('\n')[0]}`, 'npm i webgpu@0.6.2 (prebuilt for linux-x64/arm64, darwin, win32)');
      }
      installGlobals(dawn);
      installDawnTickCapture(); // before Dawn's first async task, so dataSync() can pump its events
      const g = dawn.create(flags);
      const nav = globalThis as { navigator?: { gpu?: GPU } };
      if (!nav.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu: g, userAgent: `Node.js/${process.version}` }, configurable: true, writable: true });
      else if (!nav.navigator.gpu) Object.defineProperty(nav.navigator, 'gpu', { value: g, configurable: true });
      return g;
    })());

  const noAdapter = () => {
    const { reason, hint } = explainNoAdapter(diagnose());
    return new BackendUnavailableError('webgpu', reason, hint);
  };

  return {
    name: 'webgpu',
    async probe(): Promise<BackendAvailability> {
      let g: GPU;
      try {
        g = await getGpu();
      } catch (e) {
        const err = e as BackendUnavailableError;
        return { backend: 'webgpu', available: false, autoEligible: false, reason: err.reason ?? err.message, ...(err.hint ? { hint: err.hint } : {}) };
      }
      const adapter = await requestAdapter(g);
      if (!adapter) {
        const err = noAdapter();
        return { backend: 'webgpu', available: false, autoEligible: false, reason: err.reason, ...(err.hint ? { hint: err.hint } : {}) };
      }
      const s = summariseAdapter(adapter);
      return {
        backend: 'webgpu',
        available: true,
        autoEligible: !s.software,
        isGpu: !s.software,
        reason: s.software ? `${s.description} (software rasteriser on the CPU)` : s.description,
      };
    },
    async init() {
      return activateWebGpu(await getGpu(), noAdapter, patchReadSync);
    },
  };
}

/** Exposes GPUBufferUsage, GPUMapMode, GPUShaderStage, ... which tfjs-backend-webgpu reads as globals. */
function installGlobals(dawn: DawnModule): void {
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
}

let registered = false;

/** Registers the Node providers (idempotent). Called by initBackend in Node and by importing `@duet/runtime/node`. */
export function registerNodeBackends(): void {
  if (registered) return;
  registered = true;
  registerBackendProvider(createTensorflowProvider());
  registerBackendProvider(createDawnProvider());
}
