import {create, toBinary} from '@bufbuild/protobuf';
import {
	AttributeProtoSchema,
	AttributeProto_AttributeType,
	GraphProtoSchema,
	ModelProtoSchema,
	NodeProtoSchema,
	OperatorSetIdProtoSchema,
	TensorProtoSchema,
	TensorProto_DataLocation,
	TensorShapeProtoSchema,
	TensorShapeProto_DimensionSchema,
	TypeProtoSchema,
	TypeProto_TensorSchema,
	ValueInfoProtoSchema,
	type NodeProto,
	type TensorProto,
	type ValueInfoProto,
} from 'onnx-buf';

/** ONNX TensorProto.DataType values used by the builders. */
export const OnnxType = {
	float32: 1,
	uint8: 2,
	int32: 6,
	int64: 7,
	bool: 9,
	float16: 10,
	bfloat16: 16,
} as const;
export type OnnxTypeName = keyof typeof OnnxType;

/** A float attribute whose value happens to be integral (plain integers become INT attributes). */
export class FloatAttr {
	constructor(readonly value: number) {}
}
export const float = (value: number) => new FloatAttr(value);

export type AttrValue = number | bigint | string | FloatAttr | number[] | FloatAttr[] | TensorProto;

export type OpOptions = {
	/** Number of outputs to create (default 1). */
	outputs?: number;
	domain?: string;
	/** Last segment of the node name; the scope path is prepended. */
	name?: string;
	/** Explicit output names (instead of generated ones). */
	outputNames?: string[];
};

export type ExternalTensor = {
	name: string;
	dims: number[];
	dataType: number;
	/** Path relative to the graph's folder, or a key of the session's externalData buffers. */
	location: string;
	offset: number;
	length: number;
};

/**
 * A thin, neutral builder over onnx-buf messages: the graph builders (text encoder, UNet, VAE)
 * write `b.op('MatMul', [x, w])` and get back the output value name. Node and value names carry
 * the diffusers module path through `scope()`, so a node reads like
 * `down_blocks.1.attentions.0.transformer_blocks.0.attn1/MatMul_12`.
 */
export class GraphBuilder {
	readonly nodes: NodeProto[] = [];
	readonly initializers: TensorProto[] = [];
	readonly inputs: ValueInfoProto[] = [];
	readonly outputs: ValueInfoProto[] = [];
	private readonly scopes: string[] = [];
	private counter = 0;
	private readonly usedDomains = new Map<string, number>([['', 17]]);
	private readonly constantCache = new Map<string, string>();

	constructor(readonly graphName: string) {}

	/** Runs `fn` with `name` appended to the scope path used for node and value names. */
	scope<T>(name: string, fn: () => T): T {
		this.scopes.push(name);
		try {
			return fn();
		} finally {
			this.scopes.pop();
		}
	}

	get scopePath(): string {
		return this.scopes.join('.');
	}

	private uniqueName(base: string): string {
		const prefix = this.scopes.length ? `${this.scopePath}/` : '';
		return `${prefix}${base}_${this.counter++}`;
	}

	input(name: string, type: OnnxTypeName, dims: (number | string)[]): string {
		this.inputs.push(valueInfo(name, OnnxType[type], dims));
		return name;
	}

	/** Declares `value` as graph output `name` (adds an Identity when the names differ). */
	output(name: string, value: string, type: OnnxTypeName, dims?: (number | string)[]): void {
		if (value !== name) this.op('Identity', [value], {}, {outputNames: [name]});
		this.outputs.push(valueInfo(name, OnnxType[type], dims));
	}

	op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, options: OpOptions = {}): string {
		return this.opMulti(opType, inputs, attrs, options)[0];
	}

	opMulti(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, options: OpOptions = {}): string[] {
		const nodeName = this.uniqueName(options.name ?? opType);
		const count = options.outputNames?.length ?? options.outputs ?? 1;
		const outputs = options.outputNames ?? Array.from({length: count}, (_, i) => `${nodeName}:${i}`);
		const domain = options.domain ?? '';
		if (domain && !this.usedDomains.has(domain)) this.usedDomains.set(domain, 1);
		this.nodes.push(
			create(NodeProtoSchema, {
				name: nodeName,
				opType,
				domain,
				input: inputs,
				output: outputs,
				attribute: Object.entries(attrs)
					.filter(([, v]) => v !== undefined)
					.map(([k, v]) => attribute(k, v as AttrValue)),
			}),
		);
		return outputs;
	}

	/** A float32 constant initializer (deduplicated by value). */
	constFloat32(values: ArrayLike<number>, dims: number[] = [values.length]): string {
		return this.constTensor(OnnxType.float32, new Float32Array(Array.from(values)).buffer, dims, 'f32');
	}

	/** An int64 constant initializer (shapes, axes, indices). */
	constInt64(values: ArrayLike<number>, dims: number[] = [values.length]): string {
		return this.constTensor(
			OnnxType.int64,
			BigInt64Array.from(Array.from(values), (v) => BigInt(v)).buffer,
			dims,
			'i64',
		);
	}

	/** A float16 constant from float values (rounded to nearest even). */
	constFloat16(halfBits: Uint16Array, dims: number[]): string {
		return this.constTensor(OnnxType.float16, halfBits.slice().buffer, dims, 'f16');
	}

	private constTensor(dataType: number, buffer: ArrayBuffer, dims: number[], tag: string): string {
		const bytes = new Uint8Array(buffer);
		const key = `${tag}|${dims.join(',')}|${Buffer.from(bytes).toString('base64')}`;
		const cached = this.constantCache.get(key);
		if (cached) return cached;
		const name = `const_${tag}_${this.counter++}`;
		this.initializers.push(create(TensorProtoSchema, {name, dims: dims.map(BigInt), dataType, rawData: bytes}));
		this.constantCache.set(key, name);
		return name;
	}

	/** An initializer whose bytes stay in an external file (here: a diffusers safetensors file). */
	externalInitializer(tensor: ExternalTensor): string {
		this.initializers.push(
			create(TensorProtoSchema, {
				name: tensor.name,
				dims: tensor.dims.map(BigInt),
				dataType: tensor.dataType,
				dataLocation: TensorProto_DataLocation.EXTERNAL,
				externalData: [
					{key: 'location', value: tensor.location},
					{key: 'offset', value: String(tensor.offset)},
					{key: 'length', value: String(tensor.length)},
				],
			}),
		);
		return tensor.name;
	}

	/** Serialises the model (opset 17 + any custom domain used, e.g. com.microsoft). */
	toBytes(): Uint8Array {
		const graph = create(GraphProtoSchema, {
			name: this.graphName,
			node: this.nodes,
			initializer: this.initializers,
			input: this.inputs,
			output: this.outputs,
		});
		const model = create(ModelProtoSchema, {
			irVersion: 8n,
			producerName: 'remotion-fatezero',
			opsetImport: [...this.usedDomains].map(([domain, version]) =>
				create(OperatorSetIdProtoSchema, {domain, version: BigInt(version)}),
			),
			graph,
		});
		return toBinary(ModelProtoSchema, model);
	}
}

const valueInfo = (name: string, elemType: number, dims?: (number | string)[]): ValueInfoProto =>
	create(ValueInfoProtoSchema, {
		name,
		type: create(TypeProtoSchema, {
			value: {
				case: 'tensorType',
				value: create(TypeProto_TensorSchema, {
					elemType,
					shape: dims
						? create(TensorShapeProtoSchema, {
								dim: dims.map((d) =>
									create(TensorShapeProto_DimensionSchema, {
										value: typeof d === 'number' ? {case: 'dimValue', value: BigInt(d)} : {case: 'dimParam', value: d},
									}),
								),
							})
						: undefined,
				}),
			},
		}),
	});

const attribute = (name: string, value: AttrValue) => {
	if (value instanceof FloatAttr) return create(AttributeProtoSchema, {name, type: AttributeProto_AttributeType.FLOAT, f: value.value});
	if (typeof value === 'number') {
		return Number.isInteger(value)
			? create(AttributeProtoSchema, {name, type: AttributeProto_AttributeType.INT, i: BigInt(value)})
			: create(AttributeProtoSchema, {name, type: AttributeProto_AttributeType.FLOAT, f: value});
	}
	if (typeof value === 'bigint') return create(AttributeProtoSchema, {name, type: AttributeProto_AttributeType.INT, i: value});
	if (typeof value === 'string') {
		return create(AttributeProtoSchema, {name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value)});
	}
	if (Array.isArray(value)) {
		if (value.some((v) => v instanceof FloatAttr || !Number.isInteger(v))) {
			return create(AttributeProtoSchema, {
				name,
				type: AttributeProto_AttributeType.FLOATS,
				floats: value.map((v) => (v instanceof FloatAttr ? v.value : (v as number))),
			});
		}
		return create(AttributeProtoSchema, {name, type: AttributeProto_AttributeType.INTS, ints: (value as number[]).map(BigInt)});
	}
	return create(AttributeProtoSchema, {name, type: AttributeProto_AttributeType.TENSOR, t: value});
};
