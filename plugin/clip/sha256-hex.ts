import {sha256} from '@noble/hashes/sha2.js';
import {bytesToHex, utf8ToBytes} from '@noble/hashes/utils.js';

/**
 * SHA-256 of a string's UTF-8 bytes as lowercase hex. Pure JavaScript (@noble/hashes), so it is
 * synchronous and identical in Node and in the Remotion bundle, unlike Web Crypto (async) or
 * node:crypto (absent in the browser).
 */
export const sha256Hex = (text: string): string => bytesToHex(sha256(utf8ToBytes(text)));
