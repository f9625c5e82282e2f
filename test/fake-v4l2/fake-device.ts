// Runs our real V4L2 wrapper and addon against the LD_PRELOAD fake device (fake_v4l2.c). LD_PRELOAD only takes
// effect at process start, so tests and the bench spawn this module as a child with the shim preloaded; the
// child opens the camera, grabs frames and prints one JSON line.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const FAKE_DEVICE = '/dev/video-fake0';

export interface ChildPlan {
  spec: string;
  opts?: {
    width?: number;
    height?: number;
    fps?: number;
    output?: 'auto' | 'grey' | 'rgb';
    pixelFormats?: Array<'GREY' | 'YUYV' | 'MJPG'>;
    exposure?: number;
    frameTimeoutMs?: number;
    uvcXu?: Array<{ unit: number; selector: number; data: number[] }>;
  };
  frames: number;
  /** Include pixel data (base64) in the output; keep frames small when set. */
  data?: boolean;
  /** Open, take the frames and close this many times in one process (the bench); default 1. */
  repeat?: number;
  /** Extra behaviour to exercise after the frames are taken. */
  scenario?: 'close-while-waiting' | 'second-open' | 'probe';
}

export interface ChildFrame {
  width: number;
  height: number;
  channels: number;
  sequence: number;
  timestampMs: number;
  data?: string;
}

export interface ChildResult {
  info?: Record<string, unknown>;
  frames: ChildFrame[];
  warnings: string[];
  error?: { name: string; code?: string; message: string };
  secondOpenError?: { code?: string; message: string };
  closeWhileWaitingMs?: number;
  probe?: unknown;
  timings: { openMs?: number; firstFrameMs?: number; closeMs?: number };
  /** One entry per repetition when `repeat` is set; the first is cold (module and addon loading). */
  runs?: Array<{ openMs: number; firstFrameMs: number; closeMs: number }>;
}

/** Compiles the shim once per process into a temp dir (cc is part of build-essential, see setup-dev.sh). */
let built: string | null = null;
export function buildFakeV4l2(): string {
  if (built && fs.existsSync(built)) return built;
  const src = path.join(PACKAGE_ROOT, 'test', 'fake-v4l2', 'fake_v4l2.c');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-fake-v4l2-'));
  const out = path.join(dir, 'fake_v4l2.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, src, '-ldl', '-lpthread'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  built = out;
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return out;
}

/** Spawns a child with the fake device preloaded; `env` configures the device (FAKE_V4L2_*). */
export function runFakeChild(plan: ChildPlan, env: Record<string, string> = {}): Promise<ChildResult> {
  const shim = buildFakeV4l2();
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env, LD_PRELOAD: shim, FACEGATE_V4L2_CHILD: JSON.stringify(plan) };
  delete childEnv.NODE_TEST_CONTEXT; // the child is a plain program, not a test file
  delete childEnv.NODE_OPTIONS;
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ChildResult);
      } catch {
        reject(new Error(`fake-v4l2 child exited with ${code ?? signal}; stdout: ${out.slice(0, 2000)} stderr: ${err.slice(0, 2000)}`));
      }
    });
  });
}

/** The shim's ioctl log as lines (FAKE_V4L2_LOG). */
export function readLog(file: string): string[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

async function childMain(plan: ChildPlan): Promise<void> {
  const { openCamera } = await import('../../src/camera/camera.js');
  const result: ChildResult = { frames: [], warnings: [], timings: {} };
  const opts = {
    ...plan.opts,
    uvcXu: plan.opts?.uvcXu?.map((x) => ({ unit: x.unit, selector: x.selector, data: Uint8Array.from(x.data) })),
    onWarning: (m: string) => result.warnings.push(m),
  };
  if (plan.scenario === 'probe') {
    const { listCameras } = await import('../../src/camera/probe.js');
    result.probe = listCameras([plan.spec, '/dev/video-facegate-absent']);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (plan.repeat && plan.repeat > 1) {
    result.runs = [];
    try {
      for (let i = 0; i < plan.repeat; i++) {
        const t0 = performance.now();
        const cam = await openCamera(plan.spec, opts);
        const openMs = performance.now() - t0;
        let firstFrameMs = NaN;
        for await (const f of cam.frames()) {
          if (f) firstFrameMs = performance.now() - t0;
          break;
        }
        const tc = performance.now();
        await cam.close();
        result.runs.push({ openMs, firstFrameMs, closeMs: performance.now() - tc });
      }
    } catch (err) {
      result.error = { name: (err as Error).name, code: (err as { code?: string }).code, message: (err as Error).message };
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const t0 = performance.now();
  try {
    const cam = await openCamera(plan.spec, opts);
    result.timings.openMs = performance.now() - t0;
    result.info = { ...cam.info };
    if (plan.frames > 0) {
      for await (const f of cam.frames()) {
        if (result.frames.length === 0) result.timings.firstFrameMs = performance.now() - t0;
        result.frames.push({
          width: f.image.width,
          height: f.image.height,
          channels: f.image.channels,
          sequence: f.sequence,
          timestampMs: f.timestampMs,
          ...(plan.data ? { data: Buffer.from(f.image.data.buffer, f.image.data.byteOffset, f.image.data.byteLength).toString('base64') } : {}),
        });
        if (result.frames.length >= plan.frames) break;
      }
    }
    if (plan.scenario === 'second-open') {
      try {
        const again = await openCamera(plan.spec, opts);
        await again.close();
      } catch (err) {
        result.secondOpenError = { code: (err as { code?: string }).code, message: (err as Error).message };
      }
    }
    if (plan.scenario === 'close-while-waiting') {
      // Start waiting for a frame that will not come soon (the plan sets a low fps), then close.
      const it = cam.frames()[Symbol.asyncIterator]();
      const next = it.next();
      await new Promise((r) => setTimeout(r, 50));
      const tc = performance.now();
      await cam.close();
      const r = await next;
      result.closeWhileWaitingMs = performance.now() - tc;
      if (!r.done) result.warnings.push('iteration yielded after close');
    }
    const tc = performance.now();
    await cam.close();
    result.timings.closeMs = performance.now() - tc;
    await cam.close(); // idempotent
  } catch (err) {
    result.error = { name: (err as Error).name, code: (err as { code?: string }).code, message: (err as Error).message };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const plan = process.env.FACEGATE_V4L2_CHILD;
if (plan && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await childMain(JSON.parse(plan) as ChildPlan);
}
