import type {NodeProto, TensorProto, ValueInfoProto} from 'onnx-buf';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import {OnnxType} from './onnx-graph-builder.js';

/**
 * The ops our graph builders emit, and the providers that register a kernel for each, read from
 * onnxruntime's kernel registration lists (core/providers/cpu/cpu_execution_provider.cc,
 * core/providers/cuda/cuda_execution_provider.cc, contrib_ops/cuda/cuda_contrib_kernels.cc,
 * core/providers/webgpu/webgpu_execution_provider.cc, contrib_ops/webgpu/webgpu_contrib_kernels.cc).
 * Where a provider lacks one, the builder emits a portable equivalent for that provider
 * (common-layers.ts):
 * - com.microsoft.FusedMatMul has no WebGPU kernel: WebGPU graphs get Transpose (constant-folded) + MatMul.
 * - InstanceNormalization: WebGPU's registration is commented out in some ORT snapshots: WebGPU
 *   graphs use LayerNormalization over the group axis (registered in every snapshot read).
 * - Min (and the other int64 shape arithmetic) has no WebGPU kernel: ORT keeps shape computations
 *   on the CPU by design (GetCpuPreferredNodes), so it costs no device copies of activations.
 */
export const OP_KERNELS: Record<string, readonly ExecutionProviderName[]> = {
	Add: ['cpu', 'cuda', 'webgpu'],
	ArgMax: ['cpu', 'cuda', 'webgpu'],
	Cast: ['cpu', 'cuda', 'webgpu'],
	Clip: ['cpu', 'cuda', 'webgpu'],
	Concat: ['cpu', 'cuda', 'webgpu'],
	Conv: ['cpu', 'cuda', 'webgpu'],
	Cos: ['cpu', 'cuda', 'webgpu'],
	Div: ['cpu', 'cuda', 'webgpu'],
	Erf: ['cpu', 'cuda', 'webgpu'],
	Expand: ['cpu', 'cuda', 'webgpu'],
	Gather: ['cpu', 'cuda', 'webgpu'],
	GatherND: ['cpu', 'cuda', 'webgpu'],
	Identity: ['cpu', 'cuda', 'webgpu'],
	InstanceNormalization: ['cpu', 'cuda'],
	LayerNormalization: ['cpu', 'cuda', 'webgpu'],
	MatMul: ['cpu', 'cuda', 'webgpu'],
	Min: ['cpu', 'cuda'],
	Mul: ['cpu', 'cuda', 'webgpu'],
	ReduceSum: ['cpu', 'cuda', 'webgpu'],
	Reshape: ['cpu', 'cuda', 'webgpu'],
	Resize: ['cpu', 'cuda', 'webgpu'],
	Shape: ['cpu', 'cuda', 'webgpu'],
	Sigmoid: ['cpu', 'cuda', 'webgpu'],
	Sin: ['cpu', 'cuda', 'webgpu'],
	Slice: ['cpu', 'cuda', 'webgpu'],
	Softmax: ['cpu', 'cuda', 'webgpu'],
	Split: ['cpu', 'cuda', 'webgpu'],
	Sub: ['cpu', 'cuda', 'webgpu'],
	Tile: ['cpu', 'cuda', 'webgpu'],
	Transpose: ['cpu', 'cuda', 'webgpu'],
	Unsqueeze: ['cpu', 'cuda', 'webgpu'],
	'com.microsoft.FusedMatMul': ['cpu', 'cuda'],
	'com.microsoft.MultiHeadAttention': ['cpu', 'cuda', 'webgpu'],
};

/** `domain.op` for contrib ops, the bare op name for the ONNX domain. */
export const opKey = (node: Pick<NodeProto, 'domain' | 'opType'>): string => (node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType);

export type KernelGap = {op: string; nodes: number; example: string};

/**
 * Nodes of a graph that `provider` has no kernel for (OP_KERNELS; an op missing from the table
 * counts as a gap), except int64 shape arithmetic — nodes whose every input is an int64 value
 * (shape, index or count), which ORT places on the CPU on purpose.
 */
export const kernelGaps = (
	graph: {nodes: readonly NodeProto[]; initializers: readonly TensorProto[]; inputs: readonly ValueInfoProto[]},
	provider: ExecutionProviderName,
): KernelGap[] => {
	const int64 = new Set<string>();
	for (const tensor of graph.initializers) if (tensor.dataType === OnnxType.int64) int64.add(tensor.name);
	for (const input of graph.inputs) if (input.type?.value.case === 'tensorType' && input.type.value.value.elemType === OnnxType.int64) int64.add(input.name);
	const gaps = new Map<string, KernelGap>();
	for (const node of graph.nodes) {
		const inputs = node.input.filter((name) => name !== '');
		const shapeOnly = node.opType === 'Shape' || (inputs.length > 0 && inputs.every((name) => int64.has(name)) && node.opType !== 'Cast');
		if (shapeOnly) for (const output of node.output) int64.add(output);
		if (shapeOnly) continue;
		const op = opKey(node);
		if ((OP_KERNELS[op] ?? []).includes(provider)) continue;
		const gap = gaps.get(op) ?? {op, nodes: 0, example: node.name};
		gap.nodes += 1;
		gaps.set(op, gap);
	}
	return [...gaps.values()];
};
