import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {profileFateZeroGraphs} from '../fatezero/profile-fatezero-graphs.js';
import type {ComputeType} from '../graph/weight-binder.js';
import type {ModelFolder} from '../model/read-model-folder.js';
import {formatPlacementReport, type PlacementReport} from '../runtime/profile-report.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';

export type PlacementCheck = {
	ok: boolean;
	provider: ExecutionProviderName;
	computeType: ComputeType;
	sizeInPixels: number;
	/** Per graph: the placement report without the per-node lists' bulk. */
	graphs: Record<string, Pick<PlacementReport, 'nodesByProvider' | 'memoryCopies' | 'heavyNodesOnCpu' | 'ok'> & {zeroDimensionInputs: number}>;
};

/**
 * `fatezero doctor --placement`: one small FateZero edit (2 frames, inversion and editing of one
 * step each, both with a blend mask and the latent blend) with every session under ORT's
 * profiler; prints, per graph, the nodes per provider and the memory copies. Not ok when a
 * heavy node (Conv, MatMul/Gemm/FusedMatMul, attention, normalisation) ran on the CPU under a GPU
 * provider, or when a node got an empty input.
 */
export const runPlacementCheck = async (options: {
	model: ModelFolder;
	cacheDir: string;
	provider: ExecutionProviderName;
	computeType: ComputeType;
	sizeInPixels?: number;
	threads?: number;
	log?: (line: string) => void;
}): Promise<PlacementCheck> => {
	const log = options.log ?? console.log;
	const levels = options.model.unet.config.blockOutChannels.length;
	// the smallest size with two latent pixels at the lowest level: the graph and its placement are
	// those of any size, the run stays short even for an SD-size model on a CPU
	const sizeInPixels = options.sizeInPixels ?? 8 * 2 ** levels;
	const profileDir = mkdtempSync(path.join(os.tmpdir(), 'fatezero-placement-'));
	try {
		const profiles = await profileFateZeroGraphs({
			modelDir: options.model.dir,
			cacheDir: options.cacheDir,
			profileDir,
			executionProvider: options.provider,
			computeType: options.computeType,
			attentionSource: 'recompute',
			sizeInPixels,
			frameCount: 2,
			steps: 1,
			intraOpThreads: options.threads,
		});
		const graphs: PlacementCheck['graphs'] = {};
		log(`Placement    ${options.provider}, ${options.computeType}, ${sizeInPixels}² × 2 frames, one inversion and one editing step (ORT profile)`);
		for (const {graph, report} of profiles) {
			const lines = formatPlacementReport(report);
			log(`  ${graph.padEnd(12)} ${lines[0]}`);
			for (const line of lines.slice(1)) log(`  ${''.padEnd(12)} ${line}`);
			if (report.zeroDimensionInputs.length > 0) log(`  ${''.padEnd(12)} ✖ ${report.zeroDimensionInputs.length} node runs got an empty input (first: ${report.zeroDimensionInputs[0].name})`);
			graphs[graph] = {nodesByProvider: report.nodesByProvider, memoryCopies: report.memoryCopies, heavyNodesOnCpu: report.heavyNodesOnCpu, ok: report.ok, zeroDimensionInputs: report.zeroDimensionInputs.length};
		}
		const ok = Object.values(graphs).every((g) => g.ok && g.zeroDimensionInputs === 0);
		log(ok ? `Placement    ✔ no heavy node on the CPU${options.provider === 'cpu' ? ' (CPU provider: everything is on the CPU by choice)' : ''}` : `Placement    ✖ nodes fell back to the CPU or got empty inputs (above)`);
		return {ok, provider: options.provider, computeType: options.computeType, sizeInPixels, graphs};
	} finally {
		rmSync(profileDir, {recursive: true, force: true});
	}
};
