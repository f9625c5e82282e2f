/** 8-bit image, rows top to bottom, channels interleaved (grey or RGB). Grey is what IR cameras give. */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * A detected face in source-image pixels. BlazeFace keypoints, in this order: right eye, left eye, nose tip,
 * mouth centre, right ear tragion, left ear tragion ("right" is the subject's right, on the image's left).
 */
export interface Detection {
  box: Box;
  score: number;
  keypoints: Point[];
}

export interface Quality {
  /** Inter-ocular distance in source pixels; small faces embed poorly. */
  faceSizePx: number;
  /** Variance of the Laplacian on the aligned grey chip; low means blurred. */
  sharpness: number;
  /** Mean grey level of the aligned chip, 0..255. */
  brightness: number;
  /** Rough head rotation in degrees from landmarks; 0 is frontal. */
  yaw: number;
  pitch: number;
}
