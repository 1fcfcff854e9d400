import {readFileSync} from 'node:fs';
import type {ExecutionProviderName} from './session-spec.js';

/** One node execution from ORT's profile (a `<node>_kernel_time` event). */
export type ProfiledNode = {
	name: string;
	opType: string;
	/** ORT's provider name, e.g. CPUExecutionProvider, CUDAExecutionProvider, WebGpuExecutionProvider. */
	provider: string;
	inputShapes: number[][];
	outputShapes: number[][];
	durationUs: number;
};

type ProfileEvent = {cat?: string; name?: string; dur?: number; args?: {op_name?: string; provider?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[]}};

const shapesOf = (list: Record<string, number[]>[] | undefined): number[][] => (list ?? []).map((entry) => Object.values(entry)[0] ?? []);

/** Every node execution in an ORT profile file (one entry per node and run). */
export const readOrtProfile = (file: string): ProfiledNode[] => {
	const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
	return events
		.filter((event) => event.cat === 'Node' && event.name?.endsWith('_kernel_time') && event.args?.op_name)
		.map((event) => ({
			name: event.name!.slice(0, -'_kernel_time'.length),
			opType: event.args!.op_name!,
			provider: event.args!.provider ?? 'unknown',
			inputShapes: shapesOf(event.args!.input_type_shape),
			outputShapes: shapesOf(event.args!.output_type_shape),
			durationUs: event.dur ?? 0,
		}));
};

/** ORT's names of our providers. */
export const ORT_PROVIDER_NAMES: Record<ExecutionProviderName, string> = {
	cpu: 'CPUExecutionProvider',
	cuda: 'CUDAExecutionProvider',
	webgpu: 'WebGpuExecutionProvider',
};

/**
 * Ops that carry the UNet's arithmetic: under a GPU provider none of them may run on the CPU
 * (each would cost a round trip of its activations through host memory, and CPU speed).
 */
export const HEAVY_OPS: ReadonlySet<string> = new Set([
	'Conv',
	'MatMul',
	'Gemm',
	'FusedMatMul',
	'MultiHeadAttention',
	'Attention',
	'InstanceNormalization',
	'LayerNormalization',
	'GroupNorm',
	'SkipLayerNormalization',
	'SimplifiedLayerNormalization',
	'BatchNormalization',
	'Softmax',
]);

export type PlacementReport = {
	/** The provider the session asked for. */
	provider: ExecutionProviderName;
	/** Distinct nodes per ORT provider name. */
	nodesByProvider: Record<string, number>;
	/** Distinct nodes per provider and op type. */
	opsByProvider: Record<string, Record<string, number>>;
	/** Distinct MemcpyToHost / MemcpyFromHost nodes (device ↔ host copies inside the graph). */
	memoryCopies: number;
	/** Heavy nodes (HEAVY_OPS) that ran on the CPU under a GPU provider. */
	heavyNodesOnCpu: {name: string; opType: string}[];
	/** Node executions with an input that has a zero dimension (an empty tensor). */
	zeroDimensionInputs: {name: string; opType: string; inputShapes: number[][]}[];
	/** True when no heavy node fell back to the CPU. */
	ok: boolean;
};

/** Where the nodes of a profiled run ran, and what should not have happened. */
export const placementReport = (nodes: ProfiledNode[], provider: ExecutionProviderName): PlacementReport => {
	const seen = new Map<string, ProfiledNode>();
	for (const node of nodes) if (!seen.has(node.name)) seen.set(node.name, node);
	const nodesByProvider: Record<string, number> = {};
	const opsByProvider: Record<string, Record<string, number>> = {};
	let memoryCopies = 0;
	const heavyNodesOnCpu: PlacementReport['heavyNodesOnCpu'] = [];
	for (const node of seen.values()) {
		nodesByProvider[node.provider] = (nodesByProvider[node.provider] ?? 0) + 1;
		const ops = (opsByProvider[node.provider] ??= {});
		ops[node.opType] = (ops[node.opType] ?? 0) + 1;
		if (node.opType === 'MemcpyToHost' || node.opType === 'MemcpyFromHost') memoryCopies += 1;
		if (provider !== 'cpu' && node.provider === ORT_PROVIDER_NAMES.cpu && HEAVY_OPS.has(node.opType)) heavyNodesOnCpu.push({name: node.name, opType: node.opType});
	}
	const zeroDimensionInputs = nodes
		.filter((node) => node.inputShapes.some((shape) => shape.includes(0)))
		.map(({name, opType, inputShapes}) => ({name, opType, inputShapes}));
	return {provider, nodesByProvider, opsByProvider, memoryCopies, heavyNodesOnCpu, zeroDimensionInputs, ok: heavyNodesOnCpu.length === 0};
};

/** The report as a few lines for a terminal. */
export const formatPlacementReport = (report: PlacementReport): string[] => {
	const lines = Object.entries(report.nodesByProvider).map(([name, count]) => {
		const ops = Object.entries(report.opsByProvider[name] ?? {})
			.sort((a, b) => b[1] - a[1])
			.slice(0, 6)
			.map(([op, n]) => `${op} ${n}`)
			.join(', ');
		return `${name.padEnd(26)} ${String(count).padStart(5)} nodes (${ops}${Object.keys(report.opsByProvider[name] ?? {}).length > 6 ? ', …' : ''})`;
	});
	lines.push(`memory copies ${report.memoryCopies}`);
	if (report.heavyNodesOnCpu.length > 0) {
		const byOp = new Map<string, number>();
		for (const node of report.heavyNodesOnCpu) byOp.set(node.opType, (byOp.get(node.opType) ?? 0) + 1);
		lines.push(`✖ ${report.heavyNodesOnCpu.length} heavy nodes run on the CPU under ${report.provider}: ${[...byOp].map(([op, n]) => `${op} ×${n}`).join(', ')} (first: ${report.heavyNodesOnCpu[0].name})`);
	}
	return lines;
};
