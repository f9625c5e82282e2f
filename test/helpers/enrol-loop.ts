// A process that stores enrolments as fast as it can until it is killed (test/faults.test.ts kills it with SIGKILL
// mid-write). Usage: enrol-loop.js DB. Face i has TEMPLATES templates whose every element is i; prints "stored i".
import { TemplateStore } from '../../src/store/store.js';

export const TEMPLATES = 8;
export const DIM = 4096;

function main(): void {
  const store = TemplateStore.open(process.argv[2]!);
  for (let i = 0; ; i++) {
    const templates = Array.from({ length: TEMPLATES }, () => ({ id: 'm', sha256: 'a'.repeat(64), vector: new Float32Array(DIM).fill(i) }));
    store.addFace('alice', `face-${i}`, templates, { uid: 1000 });
    process.stdout.write(`stored ${i}\n`);
  }
}

if (process.argv[2]) main();
