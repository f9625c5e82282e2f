import type { Box, Point, RawImage } from './types.js';

/** Finds facial landmarks inside a detected face box, in source-image pixels. */
export interface Landmarker {
  readonly id: string;
  /** Number of points returned; 68 follows the iBUG/dlib order. */
  readonly count: number;
  detect(image: RawImage, box: Box): Promise<Point[]>;
  close(): Promise<void>;
}
