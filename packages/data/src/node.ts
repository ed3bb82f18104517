// @graft/data/node: the Node-only half: image files through sharp, ImageFolder, IDX files and MNIST-family folders.
export { type DecodeFileOptions, decodeImageBytes, decodeImageFile } from './node/decode-image-file.js';
export { readIdxFile, readIdxFileSync } from './node/idx-file.js';
export {
  compareCodePoints,
  IMAGE_EXTENSIONS,
  ImageFolder,
  type ImageFolderOptions,
  type SkippedImage,
} from './node/image-folder.js';
export { FashionMNIST, findIdxFile, KMNIST, MNIST, type MnistOptions } from './node/mnist.js';
