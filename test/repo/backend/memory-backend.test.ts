import { MemoryBackend } from '../../../src/repo/index.js'
import { backendConformance } from './backend-suite.js'

backendConformance('memory', async () => ({
  backend: new MemoryBackend(),
  cleanup: async () => {},
}))
