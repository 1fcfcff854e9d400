import {parentPort} from 'node:worker_threads';
import {FateZeroError} from '../errors/fatezero-error.js';
import {rememberProviderProbe} from './execution-providers.js';
import {createOrtSession, type OrtSession} from './ort-session.js';
import {packTensors} from './tensor-transfer.js';
import {serializeError, type SessionInfo, type WorkerReply, type WorkerRequest} from './worker-protocol.js';

/**
 * The inference worker: one thread per runtime that owns every ORT session, so the synchronous
 * `session.run` blocks this thread and never the main event loop. Requests arrive one at a time
 * (the client queues them), so no two ORT calls overlap here.
 */

if (!parentPort) throw new Error('inference-worker.ts is a worker_threads entry; start it through createInferenceRuntime().');
const port = parentPort;

const sessions = new Map<number, OrtSession>();
let nextSession = 1;

const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

const sessionFor = (id: number): OrtSession => {
	const session = sessions.get(id);
	if (!session) throw new FateZeroError('SESSION_DISPOSED', `Session #${id} does not exist in the inference worker (it was disposed); create it again.`);
	return session;
};

const handle = async (request: WorkerRequest): Promise<{value: unknown; transfer?: ArrayBuffer[]}> => {
	switch (request.kind) {
		case 'create': {
			if (request.probe) rememberProviderProbe(request.probe);
			const session = await createOrtSession(request.spec, request.options, request.threads);
			const id = nextSession++;
			sessions.set(id, session);
			const info: SessionInfo = {
				session: id,
				label: session.label,
				provider: session.provider,
				threads: session.threads,
				inputNames: [...session.inputNames],
				outputNames: [...session.outputNames],
			};
			return {value: info};
		}
		case 'run': {
			const outputs = await sessionFor(request.session).run(request.feeds, {fetches: request.fetches});
			// ORT's output arrays are ours alone: move them, no copy.
			const {tensors, transfer} = packTensors(outputs, true);
			return {value: tensors, transfer};
		}
		case 'dispose': {
			const session = sessions.get(request.session);
			sessions.delete(request.session);
			await session?.dispose();
			return {value: undefined};
		}
		case 'shutdown': {
			const all = [...sessions.values()];
			sessions.clear();
			await Promise.all(all.map((s) => s.dispose()));
			return {value: undefined};
		}
		case 'crash':
			process.exit(70);
	}
};

port.on('message', (request: WorkerRequest) => {
	handle(request).then(
		({value, transfer}) => post({kind: 'reply', id: request.id, ok: true, value}, transfer),
		(error: unknown) => post({kind: 'reply', id: request.id, ok: false, error: serializeError(error)}),
	);
});

post({kind: 'ready'});
