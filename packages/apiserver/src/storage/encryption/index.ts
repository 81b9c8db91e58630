// Encryption at rest (upstream's k8s.io/apiserver/pkg/storage/value and its encrypt/* providers).
export * from './transformer.js';
export { cbcTransformer, gcmTransformer } from './aes.js';
export { secretboxTransformer } from './secretbox.js';
export * from './config.js';
