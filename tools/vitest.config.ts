import { projectConfig } from '../vitest.shared.ts';

export default projectConfig(new URL('.', import.meta.url), 'tools', { include: ['lint/**/*.test.ts', 'ci/**/*.test.ts', 'gpu/**/*.test.ts'] });
