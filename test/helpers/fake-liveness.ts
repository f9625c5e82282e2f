// A stand-in liveness judge for the tests that run facegated's request handling on a stand-in face engine (uniform
// grey frames, no landmarks): a frame is "live" unless its grey level is PHOTO_LEVEL, a level whose fake
// embedding still matches the enrolled 200. The real cues are tested in test/liveness-*.test.ts and end to end
// in test/e2e-pam.test.ts.
import { meanBrightness } from '../../src/camera/camera.js';
import type { FrameLiveness, LivenessJudge, LivenessTrack } from '../../src/liveness/judge.js';
import type { WindowSummary } from '../../src/liveness/fusion.js';

/** A frame at this grey level matches the fake engine's enrolled face but is a "photo". */
export const PHOTO_LEVEL = 198;

class FakeTrack implements LivenessTrack {
  last: FrameLiveness | null = null;
  frames = 0;
  ms = 0;
  cpuMs = 0;
  observeDark(): void {}
  breakTrack(): void {}
  async observe(image: Parameters<LivenessTrack['observe']>[0]): Promise<FrameLiveness> {
    this.frames++;
    const level = Math.round(meanBrightness(image));
    const live = level !== PHOTO_LEVEL;
    this.last = { cues: { pad: live ? 0.9 : 0.1 }, live, failed: live ? [] : ['pad'] };
    return this.last;
  }
  windowSummary(): WindowSummary {
    return this.last?.cues.pad !== undefined ? { pad: this.last.cues.pad } : {};
  }
}

export class FakeLiveness implements LivenessJudge {
  attempt(): LivenessTrack {
    return new FakeTrack();
  }
}
