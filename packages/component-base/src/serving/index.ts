export * from './delegating.js';
export * from './secure-serving.js';
export * from './component-serving.js';
