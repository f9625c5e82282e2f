import { CameraError, type Camera, type OpenOptions } from './camera.js';

// Placeholder until the native addon lands (native/v4l2): fails closed with a clear reason.
export async function openV4l2(_spec: string, device: string, _opts: OpenOptions): Promise<Camera> {
  throw new CameraError('NATIVE_MISSING', `v4l2: cannot open ${device}: the V4L2 backend is not built in this version`);
}
