import type {HostTensor} from './host-tensor.js';

/**
 * Moving tensors between threads: postMessage structured-clones a typed array by copying its
 * whole ArrayBuffer (even when the view is a small slice of it), while a transferred buffer moves
 * for free but is detached (length 0) on the sending side. So every tensor crosses as a buffer it
 * owns exactly, transferred: at most one memcpy, never a clone of a larger pool.
 */

type Typed = HostTensor['data'];

const ownsWholeBuffer = (data: Typed | Uint8Array): boolean =>
	data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;

const exactCopy = <T extends Typed | Uint8Array>(data: T): T => data.slice() as T;

/**
 * Prepares tensors for postMessage. `move: false` copies each tensor once, so the caller keeps
 * its arrays; `move: true` hands over buffers the tensor owns whole (they detach here), and copies
 * only views into bigger or shared buffers.
 */
export const packTensors = (
	tensors: Record<string, HostTensor>,
	move: boolean,
): {tensors: Record<string, HostTensor>; transfer: ArrayBuffer[]} => {
	const packed: Record<string, HostTensor> = {};
	const transfer = new Set<ArrayBuffer>();
	for (const [name, tensor] of Object.entries(tensors)) {
		const data = move && ownsWholeBuffer(tensor.data) ? tensor.data : exactCopy(tensor.data);
		packed[name] = {...tensor, dims: [...tensor.dims], data} as HostTensor;
		// A Set: two tensors sharing one buffer must appear once, or postMessage throws.
		transfer.add(data.buffer as ArrayBuffer);
	}
	return {tensors: packed, transfer: [...transfer]};
};

/** Graph bytes: copied once into a buffer of their own and transferred. */
export const packBytes = (bytes: Uint8Array): {bytes: Uint8Array; transfer: ArrayBuffer[]} => {
	const own = exactCopy(bytes);
	return {bytes: own, transfer: [own.buffer as ArrayBuffer]};
};
