export { decodeProtobufObject, decodeMessage, messageFor, PROTOBUF_MEDIA_TYPE, PROTOBUF_MAGIC, type DecodedObject } from './decode.js';
export { ProtobufError } from './wire.js';
