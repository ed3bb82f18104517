// Plain JavaScript, as a user drives the built `graft` command: --amp where float16 is not available is
// refused up front with the flag, the device and what to do; a misspelled or mistyped AMP key in a --config
// file is refused with the option it was meant to be (timm's use_amp, Hugging Face's fp16).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGraft } from './test-utils/run-graft.ts';

const dir = mkdtempSync(join(tmpdir(), 'graft-amp-slips-'));
let files = 0;

function configFile(text, ext) {
  const path = join(dir, `run-${files++}${ext}`);
  writeFileSync(path, text);
  return path;
}

function graft(args) {
  return runGraft(join(dir, 'graft-home'), args);
}

/** The one error line of a failed run (no stack trace, exit code 1). */
async function errorLine(args) {
  const r = await graft(args);
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

const CPU_AMP =
  "graft: error: --amp runs the forward pass in float16 on a GPU, and --device is cpu: autocast on the CPU would compute in bfloat16, which graft's CPU convolutions do not take; use --device webgpu (an adapter with 'shader-f16'), or leave --amp out";

describe('--amp on the CPU', () => {
  it('is refused before anything runs, naming --amp, the device and what to do', async () => {
    const out = join(dir, 'cpu-amp');
    expect(await errorLine(['finetune', '--amp', '--out', out])).toBe(CPU_AMP);
    expect(await errorLine(['finetune', '--amp', '--device', 'cpu', '--out', out])).toBe(CPU_AMP);
    expect(existsSync(out)).toBe(false);
  });

  it('is refused the same way from a config file, JSON or YAML', async () => {
    const json = configFile(JSON.stringify({ amp: true, device: 'cpu', out: join(dir, 'cfg-amp') }), '.json');
    expect(await errorLine(['finetune', '--config', json])).toBe(CPU_AMP);
    const yaml = configFile('amp: true\nepochs: 1\n', '.yaml');
    expect(await errorLine(['finetune', '--config', yaml])).toBe(CPU_AMP);
    // A flag overrides the file: --no-amp turns it off (the run then fails later, on the missing data).
    const r = await graft(['finetune', '--config', yaml, '--no-amp', '--data', join(dir, 'no-such-folder')]);
    expect(r.stderr).not.toContain('--amp');
  });
});

describe('AMP keys in a --config file', () => {
  it("other trainers' names for it are answered with 'amp'", async () => {
    for (const key of ['use_amp', 'useAmp', 'fp16', 'mixed_precision']) {
      const path = configFile(JSON.stringify({ [key]: true }), '.json');
      expect(await errorLine(['finetune', '--config', path])).toBe(
        `graft: error: unknown option '${key}' in --config ${path}; did you mean 'amp'?`,
      );
    }
  });

  it('a value that is not a boolean is refused, not read as on or off', async () => {
    for (const [text, ext, shown] of [
      [JSON.stringify({ amp: 'yes' }), '.json', '"yes"'],
      [JSON.stringify({ amp: 1 }), '.json', '1'],
      ['amp: yes\n', '.yaml', '"yes"'],
      ['amp: fp16\n', '.yaml', '"fp16"'],
    ]) {
      const path = configFile(text, ext);
      expect(await errorLine(['finetune', '--config', path])).toBe(
        `graft: error: invalid value for --amp (${path}): expected true or false, got ${shown}`,
      );
    }
  });

  it('a value after the flag is refused, not read as a path or ignored', async () => {
    const r = await graft(['finetune', '--amp', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("too many arguments for 'finetune'");
  });
});
