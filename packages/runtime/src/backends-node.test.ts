import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './index.js';
import { TENSORFLOW_HINT, createDawnProvider, createTensorflowProvider, explainNoAdapter } from './node.js';

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

describe('tensorflow provider (tfjs-node-gpu / tfjs-node)', () => {
  it('neither package installed: says so and how to install them (CUDA 11.2 / cuDNN 8.1, TF 2.9.1)', async () => {
    const p = createTensorflowProvider({ resolve: () => false });
    expect(await p.probe()).toMatchObject({ available: false, autoEligible: false, reason: 'tfjs-node-gpu not installed (nor tfjs-node)' });
    const err = await rejection(p.init());
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toBe(`backend "tensorflow" is not available: tfjs-node-gpu not installed (nor tfjs-node). ${TENSORFLOW_HINT}`);
    expect(err.message).toMatch(/npm i @tensorflow\/tfjs-node-gpu@4\.22\.0 .*CUDA 11\.2 and cuDNN 8\.1.*libtensorflow 2\.9\.1/);
  });

  it('installed but failing to load (e.g. missing CUDA libraries): names each package and the loader error', async () => {
    const p = createTensorflowProvider({
      resolve: () => true,
      load: async (spec) => {
        throw new Error(`libcudnn.so.8: cannot open shared object file (${spec})`);
      },
    });
    expect(await p.probe()).toMatchObject({ available: true, isGpu: true });
    const err = await rejection(p.init());
    expect(err.message).toContain('@tensorflow/tfjs-node-gpu is installed but failed to load (libcudnn.so.8: cannot open shared object file');
    expect(err.message).toContain('@tensorflow/tfjs-node is installed but failed to load');
    expect(err.message).toContain('CUDA 11.2 and cuDNN 8.1');
  });

  it('with only tfjs-node installed, says it uses the CPU build (and why)', async () => {
    const { tf } = await import('./index.js');
    const registered = tf.findBackendFactory('tensorflow');
    // Stand-in for tfjs-node's side effect: registering a "tensorflow" backend (a cpu backend here).
    const cpuFactory = tf.findBackendFactory('cpu')!;
    const p = createTensorflowProvider({
      resolve: (s) => s === '@tensorflow/tfjs-node',
      load: async () => void (registered || tf.registerBackend('tensorflow', cpuFactory)),
    });
    const info = await p.init();
    expect(info).toMatchObject({ backend: 'tensorflow', isGpu: false, device: 'CPU (libtensorflow, tfjs-node)' });
    expect(info.fallbackReason).toBe('tfjs-node-gpu not installed: using the CPU build tfjs-node');
    await tf.setBackend('cpu');
    tf.removeBackend('tensorflow');
  });

  it('loaded but registering no backend on our tfjs (version skew) is reported, not ignored', async () => {
    const p = createTensorflowProvider({ resolve: (s) => s === '@tensorflow/tfjs-node', load: async () => ({}) });
    expect(await p.probe()).toMatchObject({ available: true, isGpu: false });
    expect((await rejection(p.init())).message).toMatch(/registered no "tensorflow" backend .*install the same version/);
  });
});

describe('webgpu provider (Dawn) without an adapter', () => {
  const fakeDawn = async () => ({ create: () => ({ requestAdapter: async () => null }) as unknown as GPU, globals: {} });

  it('explains a missing Vulkan loader', () => {
    const { reason, hint } = explainNoAdapter({ icdFiles: [] }, 'linux');
    expect(reason).toBe('no WebGPU adapter: the Vulkan loader libvulkan.so.1 is not installed');
    expect(hint).toMatch(/apt-get install libvulkan1/);
    expect(hint).toMatch(/NVIDIA driver/);
    expect(hint).toMatch(/apt-get install mesa-vulkan-drivers/);
  });

  it('explains a loader without drivers', () => {
    const { reason, hint } = explainNoAdapter({ loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', icdFiles: [] }, 'linux');
    expect(reason).toMatch(/Vulkan loader is installed .* but no Vulkan driver \(ICD\) is registered in \/usr\/share\/vulkan\/icd\.d/);
    expect(hint).toMatch(/nvidia_icd\.json.*mesa-vulkan-drivers.*VK_DRIVER_FILES/);
  });

  it('explains a VK_DRIVER_FILES pointing at nothing', () => {
    const { reason } = explainNoAdapter(
      { loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', icdFiles: ['/usr/share/vulkan/icd.d/lvp_icd.json'], driverFilesEnv: '/nope/icd.json' },
      'linux',
    );
    expect(reason).toMatch(/VK_DRIVER_FILES\/VK_ICD_FILENAMES=\/nope\/icd\.json restricts Vulkan to files that do not exist \(\/nope\/icd\.json\)/);
  });

  it("explains that Debian bookworm's Mesa 22.3 lavapipe is too old for Dawn", () => {
    const lvp = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';
    const { reason } = explainNoAdapter({ loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', icdFiles: [lvp], icdApiVersions: { [lvp]: '1.1.230' } }, 'linux');
    expect(reason).toMatch(/registered \(lvp_icd\.x86_64\.json: Vulkan 1\.1\.230\) but none exposed a device Dawn can use; Mesa's lavapipe before Mesa 23 .*bookworm-backports/);
    const { reason: fresh } = explainNoAdapter({ loader: '/l', icdFiles: [lvp], icdApiVersions: { [lvp]: '1.4.305' } }, 'linux');
    expect(fresh).not.toMatch(/before Mesa 23/);
  });

  it('probe reports unavailable and an explicit init throws the diagnosis', async () => {
    const p = createDawnProvider({ loadDawn: fakeDawn, diagnose: () => ({ icdFiles: [] }) });
    const probe = await p.probe();
    expect(probe).toMatchObject({ available: false, autoEligible: false });
    expect(probe.reason).toMatch(/libvulkan\.so\.1 is not installed/);
    const err = await rejection(p.init());
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toMatch(/^backend "webgpu" is not available: no WebGPU adapter: the Vulkan loader libvulkan\.so\.1 is not installed\. install it \(Debian\/Ubuntu: apt-get install libvulkan1\)/);
  });

  it('a missing or broken `webgpu` package is reported with the install command', async () => {
    const p = createDawnProvider({
      loadDawn: async () => {
        throw new Error("Cannot find module 'dawn.node'");
      },
    });
    expect((await p.probe()).reason).toMatch(/the "webgpu" npm package \(Dawn\) failed to load: Cannot find module/);
    expect((await rejection(p.init())).message).toMatch(/npm i webgpu@0\.6\.2/);
  });
});

describe('webgpu with Vulkan pointed at nothing (real Dawn, child process)', () => {
  it('explicit webgpu fails with the diagnosis; auto falls back to wasm and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-runtime-'));
    try {
      const script = join(dir, 'probe.mts');
      const index = fileURLToPath(new URL('./index.ts', import.meta.url));
      writeFileSync(
        script,
        `import { initBackend } from ${JSON.stringify(index)};
const explicit = await initBackend({ backend: 'webgpu' }).then((i) => 'OK ' + i.device, (e) => 'ERR ' + e.message);
const auto = await initBackend();
console.log(JSON.stringify({ explicit, auto }));`,
      );
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '', DUET_BACKEND: '' },
        encoding: 'utf8',
        timeout: 90_000,
      });
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      expect(line, r.stderr).toBeDefined();
      const { explicit, auto } = JSON.parse(line!);
      expect(explicit).toMatch(/^ERR backend "webgpu" is not available: no WebGPU adapter: VK_DRIVER_FILES\/VK_ICD_FILENAMES=\/nonexistent\/icd\.json restricts Vulkan to files that do not exist/);
      expect(auto.backend).toBe('wasm');
      expect(auto.fallbackReason).toMatch(/webgpu: no WebGPU adapter: VK_DRIVER_FILES/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
