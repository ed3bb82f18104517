// Temporary GRAFT_HOME / TORCH_HOME folders for a test, restored afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempHomes {
  root: string;
  graftHome: string;
  torchHome: string;
  restore(): Promise<void>;
}

/** Points GRAFT_HOME and TORCH_HOME at fresh empty folders. */
export async function useTempHomes(): Promise<TempHomes> {
  const root = await mkdtemp(join(tmpdir(), 'graft-models-test-'));
  const saved = { GRAFT_HOME: process.env.GRAFT_HOME, TORCH_HOME: process.env.TORCH_HOME };
  const graftHome = join(root, 'graft');
  const torchHome = join(root, 'torch');
  process.env.GRAFT_HOME = graftHome;
  process.env.TORCH_HOME = torchHome;
  return {
    root,
    graftHome,
    torchHome,
    async restore() {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
