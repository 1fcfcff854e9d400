import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import {ATTENTION_PRESETS} from '../clip/reference-frames.js';
import {CONTROLLER_OPTIONS} from '../fatezero/prompt-to-prompt/index.js';

// The defaults are interpolated from ENGINE_DEFAULTS, so the help cannot drift from what runs.
export const EDIT_HELP = `fatezero edit --source-prompt TEXT --prompt TEXT [--prompt TEXT …] (--frames DIR | --video FILE | --frames-tensor FILE) --out DIR [options]
fatezero edit --config FILE --out DIR [options as overrides]

Edits a clip with FateZero: DDIM inversion under the source prompt, then one fused editing pass per
--prompt (all prompts in one batch), decoded to PNG frames.

Input (one of; with --config, dataset_config.path is the default):
  --frames DIR             Folder of PNG/JPEG frames (sorted by name).
  --video FILE             Video file (mp4, mov, webm, mkv), decoded with Remotion's ffmpeg.
  --frames-tensor FILE     safetensors file with one tensor "images" [F, 3, H, W] in [-1, 1], frames
                           already preprocessed (H = W = --size).
  --frames-count N         Frames to take. Default ${ENGINE_DEFAULTS.frameCount} (all of a --frames-tensor).
  --start N / --stride N   First frame and step (FateZero's start_sample_frame / sampling_rate). Default 0 / 1.
  --offset L,R,T,B         Pixels cut from the left, right, top, bottom edge before resizing. Default 0,0,0,0.
  --size PX                Square frame size the model sees; a multiple of 8·2^(UNet levels−1) (64 for
                           SD-1.x). Default ${ENGINE_DEFAULTS.sizeInPixels} (dataset_config.image_size; the tensor's size).

Prompts:
  --source-prompt TEXT     The prompt that describes the input video.
  --prompt TEXT            An editing prompt; repeat for several. Official configs put the source
                           prompt first (index 0, a reconstruction).

Per-prompt options — given once, they apply to every --prompt; given once per --prompt, the k-th
value goes to the k-th prompt. With --config they override every entry of p2p_config.
  --cross-replace W        Cross-attention window: 0.8 (first 80 % of the steps), 0.2:0.8, or per word
                           "0.8,car=0:0.5" (default_ first). Default ${ENGINE_DEFAULTS.crossReplace}.
  --self-replace W         Self-attention window: 0.8 or 0.2:0.8. Default ${ENGINE_DEFAULTS.selfReplace}.
  --reweight WORD=X[,…]    Scale target words' cross-attention (eq_params), e.g. watercolor=10; "none".
  --blend-words S[,S]:T[,T]  Blend words, source:target, e.g. silver,jeep:Porsche,car; "none". Keeps the
                           edit's own self-attention inside the source words' mask.
  --blend-th X             Blend mask threshold (blend_th[0]). Default ${ENGINE_DEFAULTS.blendThreshold}; ≥ 1 keeps the source.
  --controller C           ${CONTROLLER_OPTIONS.join(' | ')}. Default ${ENGINE_DEFAULTS.controller} (Replace when both prompts have
                           the same number of words, else Refine).
  --latent-blend           Also blend the latents with the blend words' mask (every prompt).

Engine:
  --model DIR              SD-1.x folder (diffusers layout). Default: pretrained_model_path of --config,
                           else FATEZERO_MODEL, else a generated tiny random-weight model (noise-like).
  --steps N                DDIM steps (inversion and editing). Default ${ENGINE_DEFAULTS.steps}.
  --guidance G             Classifier-free guidance. Default ${ENGINE_DEFAULTS.guidance}.
  --attention NAME         ${Object.keys(ATTENTION_PRESETS).join(' | ')} (SparseCausalAttention_index). Default ${ENGINE_DEFAULTS.attention}.
  --least-sc-channel N     UNet levels with fewer channels use per-frame self-attention. Default: the
                           second level's channels (640 for SD-1.x).
  --attention-source M     recompute | stored | auto: recompute the source attention at each editing
                           step (low memory) or keep it from the inversion (faster steps, memory
                           grows with the steps); auto keeps it when it fits the memory budget.
                           Default ${ENGINE_DEFAULTS.attentionSource}.
  --storage-precision P    float16 | float32: what stored mode keeps. Default ${ENGINE_DEFAULTS.storagePrecision}.
  --fusion-max-query-tokens N  Fuse only layers with at most N query tokens. Default ${ENGINE_DEFAULTS.fusionMaxQueryTokens} (the
                           official 32²); the golden run shape_default_th64 uses 64.
  --chunk-size N           Frames per UNet batch. Default: the whole clip if it fits the memory budget.
  --memory-budget-mb N     Working memory allowed beyond the weights. Default ${ENGINE_DEFAULTS.memoryBudgetShareOfRam * 100} % of RAM.
  --execution-provider P   cpu | cuda | webgpu. Default ${ENGINE_DEFAULTS.executionProvider}.
  --compute-type T         float32 | float16: precision inside the graphs (their inputs and outputs stay
                           float32). float16 pays off on GPUs; on the CPU ORT computes most of it in
                           float32 anyway. Default ${ENGINE_DEFAULTS.computeType}.
  --cache-dir DIR          Graphs and the generated model. Default FATEZERO_CACHE_DIR or ./cache.

Official config:
  --config FILE            An official FateZero config (YAML, or the same structure as JSON): model,
                           frames, prompts, p2p_config, steps, guidance and attention come from it;
                           the flags above override it. --prompt replaces editing_prompts (p2p_config[k]
                           still pairs with the k-th prompt).

Output:
  --out DIR                DIR/source/00000.png …        the input frames at the model's size
                           DIR/<k>-<prompt-slug>/00000.png … one folder per prompt, k = its index
  --save-latents FILE      safetensors with zT [F, 4, h, w] and edited.<k> [F, 4, h, w] (F32).
  --json-progress          Progress as NDJSON events on stderr ({"job": "edit", "type": "progress",
                           "version": 1, stage, step, total, etaSeconds, totalEtaSeconds}).
  --json                   Print a JSON summary as the last line (outputs, controllers, warnings,
                           chunk size, timings).`;
