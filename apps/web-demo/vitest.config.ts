import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig(new URL('.', import.meta.url), 'web-demo');
