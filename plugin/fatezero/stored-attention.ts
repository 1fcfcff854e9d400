import type {HostTensor} from '../runtime/host-tensor.js';

/**
 * The fused layers' source queries and keys of every inversion step, kept in RAM for the stored
 * attention mode exactly as the graph output them (in the engine's storage precision, see
 * fusion-io.ts) and fed back unchanged while editing: no conversion runs in JS, which at 256² ×
 * 8 frames cost ~9 s per editing step when halves were decoded here.
 */
export class StoredAttentionSteps {
	private readonly steps = new Map<number, Map<string, HostTensor>>();
	bytes = 0;

	put(step: number, name: string, tensor: HostTensor): void {
		if (tensor.type !== 'float16' && tensor.type !== 'float32') throw new TypeError(`StoredAttentionSteps: ${name} is ${tensor.type}, expected float16 or float32`);
		if (!this.steps.has(step)) this.steps.set(step, new Map());
		this.steps.get(step)!.set(name, tensor);
		this.bytes += tensor.data.byteLength;
	}

	/** The step's tensors, ready as feeds (the runtime copies feeds, so they stay intact here). */
	get(step: number): Map<string, HostTensor> {
		return new Map(this.steps.get(step) ?? []);
	}
}
