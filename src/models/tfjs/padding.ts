/**
 * TensorFlow's SAME/VALID window arithmetic, made explicit. ONNX's auto_pad=SAME_UPPER happens to agree for
 * convolutions, but spelling the pads out keeps pooling, dilation and odd sizes exact and the model portable.
 */
export interface Pads1D {
  readonly out: number;
  readonly begin: number;
  readonly end: number;
}

/** Output size and pads along one spatial axis. TF puts the odd pixel of SAME padding at the end. */
export function windowPads(inSize: number, kernel: number, stride: number, dilation: number, padding: 'SAME' | 'VALID'): Pads1D {
  if (!(inSize > 0 && kernel > 0 && stride > 0 && dilation > 0)) {
    throw new Error(`bad window: input ${inSize}, kernel ${kernel}, stride ${stride}, dilation ${dilation}`);
  }
  const effK = (kernel - 1) * dilation + 1;
  if (padding === 'VALID') {
    if (inSize < effK) throw new Error(`VALID window of ${effK} does not fit input ${inSize}`);
    return { out: Math.ceil((inSize - effK + 1) / stride), begin: 0, end: 0 };
  }
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + effK - inSize, 0);
  const begin = Math.floor(total / 2);
  return { out, begin, end: total - begin };
}
